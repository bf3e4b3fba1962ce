import { randomUUID } from 'node:crypto';
import { loadConfig } from '../src/config/app-config';
import { DocumentsRepository } from '../src/documents/documents.repository';
import { DeadLetterQueue } from '../src/ingest/queue/dead-letter.queue';
import { IngestQueue } from '../src/ingest/queue/ingest.queue';
import { Reconciler } from '../src/ingest/worker/reconciler.service';
import { waitUntil } from './support/wait';

/**
 * Shutting down waits for a running reconcile pass, but only for SHUTDOWN_GRACE_MS: a pass
 * stuck on a connection that never answers (here a database read that never returns) must
 * not hold the process's shutdown for ever.
 */
describe('reconciler shutdown', () => {
  it('gives up waiting for a stuck pass after the grace period', async () => {
    let passStarted = false;
    const stuckDocuments = {
      findStale: () => {
        passStarted = true;
        return new Promise<never>(() => undefined);
      },
    } as unknown as DocumentsRepository;
    // A fresh prefix holds no Redis marker: checking it starts a pass at once.
    const config = loadConfig({ ...process.env, QUEUE_PREFIX: `reconcile-stop-${randomUUID().slice(0, 8)}`, SHUTDOWN_GRACE_MS: '300' });
    const reconciler = new Reconciler(stuckDocuments, {} as IngestQueue, {} as DeadLetterQueue, config);
    await reconciler.checkMarker();
    await waitUntil('the pass to start', async () => passStarted, (started) => started);

    const began = Date.now();
    await reconciler.onModuleDestroy();
    // Bounded by the grace period, with room for a busy machine; without the bound it never returns.
    expect(Date.now() - began).toBeLessThan(10000);
    expect(Date.now() - began).toBeGreaterThanOrEqual(250);
  }, 30000);
});
