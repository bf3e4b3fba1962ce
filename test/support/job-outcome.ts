import { Queue, QueueEvents } from 'bullmq';

/** How a BullMQ job ended: completed with its return value, or failed for good. */
export type JobOutcome = { state: 'completed'; returnvalue: unknown } | { state: 'failed'; failedReason: string };

/**
 * Waits for job `jobId` of `queue` to finish (completed, or failed with no retry left)
 * and says how. Reads the queue's event stream from its start, so a job that finished
 * before the call is found as well; fails after `timeoutMs`.
 */
export async function jobOutcome(queue: Queue, jobId: string, timeoutMs = 30000): Promise<JobOutcome> {
  const events = new QueueEvents(queue.name, { connection: queue.opts.connection, prefix: queue.opts.prefix, lastEventId: '0-0' });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<JobOutcome>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`job ${jobId} of ${queue.name} did not finish in ${timeoutMs} ms`)), timeoutMs);
      events.on('completed', ({ jobId: id, returnvalue }) => {
        if (id === jobId) resolve({ state: 'completed', returnvalue });
      });
      events.on('failed', ({ jobId: id, failedReason }) => {
        if (id === jobId) resolve({ state: 'failed', failedReason });
      });
      events.on('error', reject);
    });
  } finally {
    clearTimeout(timer);
    await events.close();
  }
}
