import { HttpException, ServiceUnavailableException } from '@nestjs/common';

interface TerminusResult {
  status?: string;
  error?: Record<string, { status?: string; message?: string }>;
}

/**
 * Terminus answers a failed check with its own body; this restates it in the one error shape: a message
 * (`what`: "not ready") naming each check that failed, and Terminus's whole result in `details`.
 */
export async function inErrorShape<T>(what: string, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (err) {
    if (!(err instanceof ServiceUnavailableException)) throw err;
    const result = err.getResponse() as TerminusResult;
    const down = Object.entries(result.error ?? {}).map(([name, r]) => (r.message ? `${name} (${r.message})` : name));
    throw new HttpException({ message: `${what}: ${down.join(', ') || 'a check failed'}`, details: result }, 503);
  }
}
