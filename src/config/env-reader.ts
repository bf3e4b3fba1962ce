/** Thrown when the environment holds bad values; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

// The problem list is logged: values of these are never repeated in it, nor a password inside a URL.
const SECRET_NAME = /(KEY|SECRET|PASSWORD|TOKEN)$/;

function withoutPassword(value: string): string {
  return value.replace(/(\/\/[^/@:\s]*:)[^@/\s]*@/, '$1***@');
}

/** Typed accessors over the environment that collect problems instead of throwing at the first. */
export class EnvReader {
  private readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  fail(name: string, why: string): void {
    if (SECRET_NAME.test(name)) return this.failQuietly(name, why);
    this.problems.push(`${name}=${JSON.stringify(withoutPassword(this.env[name] ?? ''))}: ${why}`);
  }

  /** Like `fail`, without echoing the value: for secrets. */
  failQuietly(name: string, why: string): void {
    this.problems.push(`${name}: ${why}`);
  }

  throwIfInvalid(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }

  optional(name: string): string | undefined {
    const raw = this.env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  }

  str(name: string, fallback: string): string {
    return this.optional(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (!/^-?\d+$/.test(raw)) {
      this.fail(name, 'must be a whole number');
      return fallback;
    }
    const value = Number(raw);
    if (value < min || value > max) {
      this.fail(name, `must be between ${min} and ${max}`);
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.optional(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    this.fail(name, 'must be true or false');
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.fail(name, `must be one of ${allowed.join(', ')}`);
    return fallback;
  }

  url(name: string, protocols: string[]): URL | undefined {
    const raw = this.optional(name);
    if (raw === undefined) return undefined;
    try {
      const url = new URL(raw);
      if (!protocols.includes(url.protocol)) {
        this.fail(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
        return undefined;
      }
      return url;
    } catch {
      this.fail(name, 'is not a valid URL');
      return undefined;
    }
  }
}
