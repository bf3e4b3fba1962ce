import { AsyncLocalStorage } from 'node:async_hooks';

/** How items are gathered into groups (see CommitGroups). */
export interface GroupLimits<Item> {
  /** Items per group at most; each group holds at least one. */
  maxItems: number;
  /** How long the first item of an idle writer waits for others to join it. */
  windowMs: number;
  /** Size of an item against `maxWeight` (a group's rows, say); 1 if absent. */
  weight?: (item: Item) => number;
  maxWeight?: number;
}

/** One waiting item and the caller it answers. */
export interface Pending<Item, Result> {
  item: Item;
  resolve(result: Result): void;
  reject(err: unknown): void;
  /** Runs work in the caller's own async context (its request, its job's deadline). */
  inCaller<T>(work: () => T): T;
}

/**
 * Gathers items submitted concurrently into groups and hands each group to `write`, one
 * group at a time: the items that arrive while a group is written form the next one
 * (with no window: they have waited a whole write already), so a group's size follows
 * the load and an idle writer adds at most `windowMs`. `write` must settle every item of
 * its group. Groups are written in the context this object was made in (at start-up, no
 * request's or job's), so no one caller's context claims a connection they share.
 */
export class CommitGroups<Item, Result> {
  private readonly waiting: Array<Pending<Item, Result>> = [];
  private readonly outside = AsyncLocalStorage.snapshot();
  private writing = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: GroupLimits<Item>,
    private readonly write: (group: Array<Pending<Item, Result>>) => Promise<void>,
  ) {}

  /** Items submitted and not yet handed to `write`. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Resolves with what `write` answers for `item`. */
  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject, inCaller: AsyncLocalStorage.snapshot() });
      this.schedule(this.limits.windowMs);
    });
  }

  private schedule(delayMs: number): void {
    if (this.writing || this.timer || this.waiting.length === 0) return;
    this.timer = this.outside(() => setTimeout(() => void this.writeNext(), delayMs));
  }

  private async writeNext(): Promise<void> {
    this.timer = undefined;
    this.writing = true;
    const group = this.take();
    try {
      await this.write(group);
    } catch (err) {
      // `write` should settle each item itself; whatever it left is failed here, never left hanging.
      for (const p of group) p.reject(err);
    } finally {
      this.writing = false;
      this.schedule(0);
    }
  }

  /** The oldest waiting items, up to the limits (always at least one). */
  private take(): Array<Pending<Item, Result>> {
    const { maxItems, weight, maxWeight = Infinity } = this.limits;
    let total = 0;
    let n = 0;
    while (n < this.waiting.length && n < maxItems) {
      const w = weight ? weight(this.waiting[n].item) : 1;
      if (n > 0 && total + w > maxWeight) break;
      total += w;
      n++;
    }
    return this.waiting.splice(0, n);
  }
}
