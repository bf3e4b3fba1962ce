import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { FileBlobRepository } from '../file-blob.repository';

/** An upload still not a document's after this long was cut off (its API process died mid-request). */
export const STAGED_UPLOAD_MAX_AGE_HOURS = 24;
const SWEEP_INTERVAL_MS = 10 * 60 * 1000;
const FIRST_SWEEP_MS = 60 * 1000;

/**
 * Drops the bytes of uploads that never became a document: an API process normally drops
 * a refused or failed upload itself, but not one whose process died while it streamed in.
 * Any number of workers may sweep at once: the DELETE is the same whoever runs it.
 */
@Injectable()
export class StagedUploadSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(StagedUploadSweeper.name);
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly blobs: FileBlobRepository) {}

  onApplicationBootstrap(): void {
    const run = (delay: number): void => {
      this.timer = setTimeout(() => {
        this.sweep()
          .catch((err: unknown) => this.logger.warn(`sweeping abandoned uploads failed: ${String(err)}`))
          .finally(() => this.timer !== null && run(SWEEP_INTERVAL_MS));
      }, delay);
      this.timer.unref();
    };
    run(FIRST_SWEEP_MS);
  }

  onModuleDestroy(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Deletes abandoned uploads; returns how many. */
  async sweep(): Promise<number> {
    const dropped = await this.blobs.deleteStagedOlderThan(STAGED_UPLOAD_MAX_AGE_HOURS);
    if (dropped > 0) this.logger.log(`dropped ${dropped} abandoned upload(s)`);
    return dropped;
  }
}
