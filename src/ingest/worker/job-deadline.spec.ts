import { JobDeadline, deadlineFor, runWithDeadline } from './job-deadline';
import { jobFailure } from './job-failure';

describe('job deadline', () => {
  it('scales with the document size', () => {
    expect(deadlineFor(0, 1000, 60000)).toBe(1000);
    expect(deadlineFor(2 * 1024 * 1024, 1000, 60000)).toBe(121000);
  });

  it('destroys only the connections still held when it expires, and reports their server pids', () => {
    const deadline = new JobDeadline(100);
    const destroyed: number[] = [];
    const release = deadline.hold({ processID: 1, destroy: () => destroyed.push(1) });
    deadline.hold({ processID: 2, destroy: () => destroyed.push(2) });
    release();
    expect(deadline.expire()).toEqual([2]);
    expect(destroyed).toEqual([2]);
    expect(deadline.expired).toBe(true);
  });

  it('classifies any error after expiry as a retried timeout, and leaves others alone', async () => {
    const tries = { made: 0, allowed: 3 };
    const deadline = new JobDeadline(2000);
    const before = await runWithDeadline(deadline, async () => jobFailure(new Error('Connection terminated unexpectedly'), tries));
    expect(before.errorClass).toBe('database_unavailable');
    deadline.expire();
    const after = await runWithDeadline(deadline, async () => jobFailure(new Error('Connection terminated unexpectedly'), tries));
    expect(after).toMatchObject({ errorClass: 'timeout', transient: true, final: false });
    expect(after.message).toContain('deadline of 2000 ms');
  });
});
