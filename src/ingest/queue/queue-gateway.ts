import { JobState, JobType, JobsOptions, Queue } from 'bullmq';
import { withTimeout } from '../../common/with-timeout';

/** Job names of one queue, each mapped to its payload type. */
export type JobCatalogue = object;

/** One job to add: the name fixes the payload's type. */
export type JobOf<Jobs extends JobCatalogue> = { [N in keyof Jobs & string]: { name: N; data: Jobs[N]; opts: JobsOptions } }[keyof Jobs & string];

// A caller (an API request, a job) must not hang on an unreachable Redis.
const REDIS_TIMEOUT_MS = 2000;

/**
 * The only door to one BullMQ queue: a job's name fixes its payload type at compile time,
 * and every call gives up after REDIS_TIMEOUT_MS. Subclasses add the queue's own
 * operations (job ids, options) for its producers.
 */
export abstract class QueueGateway<Jobs extends JobCatalogue> {
  protected constructor(protected readonly queue: Queue) {}

  protected async add(job: JobOf<Jobs>): Promise<void> {
    await withTimeout(this.queue.add(job.name, job.data, job.opts), REDIS_TIMEOUT_MS, `${this.queue.name} add`);
  }

  protected async addBulk(jobs: Array<JobOf<Jobs>>): Promise<void> {
    if (jobs.length > 0) await withTimeout(this.queue.addBulk(jobs), REDIS_TIMEOUT_MS * 5, `${this.queue.name} addBulk`);
  }

  /** The state of job `id` ('unknown' when the queue does not hold it). */
  jobState(id: string): Promise<JobState | 'unknown'> {
    return withTimeout(this.queue.getJobState(id), REDIS_TIMEOUT_MS, `${this.queue.name} getJobState`);
  }

  /** Removes job `id` if the queue holds it and it is not locked by a worker. */
  async remove(id: string): Promise<void> {
    await withTimeout(this.queue.remove(id), REDIS_TIMEOUT_MS, `${this.queue.name} remove`);
  }

  waitingCount(): Promise<number> {
    return withTimeout(this.queue.getWaitingCount(), REDIS_TIMEOUT_MS, `${this.queue.name} getWaitingCount`);
  }

  /** Ids of the jobs in the given states. */
  async jobIds(states: JobType[]): Promise<Set<string>> {
    const jobs = await withTimeout(this.queue.getJobs(states), REDIS_TIMEOUT_MS, `${this.queue.name} getJobs`);
    return new Set(jobs.filter((j) => j !== undefined).map((j) => String(j.id)));
  }
}
