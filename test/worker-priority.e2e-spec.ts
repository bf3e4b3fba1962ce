import { readFileSync } from 'node:fs';
import { WorkerSupervisor } from './support/worker-supervisor';
import { waitUntil } from './support/wait';

/** The niceness of a process, from /proc (field 19 of its stat line). */
function nicenessOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[16]);
}

/**
 * A worker process yields the CPU to a co-located API: it lowers its priority at start to
 * WORKER_NICE (10 unless set), before it takes any job.
 */
describe('worker process priority', () => {
  const supervisors: WorkerSupervisor[] = [];
  afterAll(() => Promise.all(supervisors.map((s) => s.stop())));

  async function started(env: Record<string, string>): Promise<number> {
    const workers = new WorkerSupervisor({ QUEUE_PREFIX: `priority-${process.pid}`, ...env });
    supervisors.push(workers);
    workers.start(1);
    await waitUntil('the worker to start', async () => workers.log.join('\n'), (log) => log.includes('ingest worker running'), { timeoutMs: 90000, intervalMs: 200 });
    return workers.pids()[0];
  }

  it('runs at WORKER_NICE, by default 10, and at its own priority with 0', async () => {
    const [byDefault, seven, zero] = await Promise.all([started({}), started({ WORKER_NICE: '7' }), started({ WORKER_NICE: '0' })]);
    expect(nicenessOf(byDefault)).toBe(10);
    expect(nicenessOf(seven)).toBe(7);
    expect(nicenessOf(zero)).toBe(nicenessOf(process.pid));
  }, 120000);
});
