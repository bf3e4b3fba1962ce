/**
 * One value loaded at most once per period, whatever the number of callers: callers
 * within `periodMs` of a load share its promise (a load still running included). A
 * failed load is forgotten, so the next caller tries again.
 */
export class ReuseFor<T> {
  private last?: { at: number; value: Promise<T> };

  constructor(
    private readonly periodMs: () => number,
    private readonly load: () => Promise<T>,
  ) {}

  get(now = Date.now()): Promise<T> {
    const last = this.last;
    if (last && now - last.at < this.periodMs()) return last.value;
    const value = this.load();
    this.last = { at: now, value };
    value.catch(() => {
      if (this.last?.value === value) this.last = undefined;
    });
    return value;
  }
}
