import { Injectable } from '@nestjs/common';
import { CurrentGenerations } from './generation';
import { GenerationRepository } from './generation.repository';

/** How long a process trusts its last read of the generations before reading them again. */
const SNAPSHOT_TTL_MS = 1000;

/**
 * This process's view of the live generations (active, and building during a re-embed),
 * read at most once a second. A reader or writer that finds its view out of date (its
 * `GenerationLock.hold` throws `GenerationChangedError`) calls `invalidate` and reads again.
 */
@Injectable()
export class LiveGenerations {
  private snapshot?: { at: number; value: Promise<CurrentGenerations> };

  constructor(private readonly rows: GenerationRepository) {}

  /** Active and building generations, at most SNAPSHOT_TTL_MS old. */
  current(): Promise<CurrentGenerations> {
    const now = Date.now();
    if (!this.snapshot || now - this.snapshot.at > SNAPSHOT_TTL_MS) {
      const value = this.read();
      value.catch(() => (this.snapshot = undefined));
      this.snapshot = { at: now, value };
    }
    return this.snapshot.value;
  }

  /** Forget the snapshot: a generation changed under this process. */
  invalidate(): void {
    this.snapshot = undefined;
  }

  private async read(): Promise<CurrentGenerations> {
    const { active, building } = await this.rows.current();
    if (!active) throw new Error('no active embedding generation: the service did not start properly');
    return { active, building };
  }
}
