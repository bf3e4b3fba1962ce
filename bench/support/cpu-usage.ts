import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

// Linux reports process times in clock ticks; USER_HZ is 100 on every mainstream kernel.
export const TICKS_PER_SECOND = 100;

interface ProcTimes {
  comm: string;
  /** utime + stime of the process itself, in ticks. */
  own: number;
  /** cutime + cstime: its reaped children (for the postmaster: ended backends). */
  children: number;
}

function readStat(pid: number | string): ProcTimes | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: fields resume after the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const f = stat.slice(close + 2).split(' ');
    // After ')' field 0 is state (stat field 3), so utime (14) is at 11.
    return { comm, own: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}

/** CPU seconds used so far by named groups of processes. */
export type CpuSnapshot = Map<string, number>;

/**
 * CPU seconds of each named child pid, of all Postgres processes (live backends plus the
 * ones the postmaster has reaped) and of Redis, and of this process. Postgres and Redis
 * are shared on this machine, so their figures include anyone else's load.
 */
export function cpuSnapshot(named: Array<{ name: string; pid: number | undefined }>): CpuSnapshot {
  const snap: CpuSnapshot = new Map();
  for (const { name, pid } of named) {
    const t = pid === undefined ? null : readStat(pid);
    if (t) snap.set(name, (snap.get(name) ?? 0) + t.own / TICKS_PER_SECOND);
  }
  const self = process.cpuUsage();
  snap.set('bench (this process)', (self.user + self.system) / 1e6);
  let postgres = 0;
  let redis = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const t = readStat(entry);
    if (!t) continue;
    if (t.comm === 'postgres') postgres += t.own + t.children;
    else if (t.comm === 'redis-server') redis += t.own;
  }
  snap.set('postgres (all)', postgres / TICKS_PER_SECOND);
  snap.set('redis-server', redis / TICKS_PER_SECOND);
  snap.set(MACHINE, machineBusyTicks() / TICKS_PER_SECOND);
  return snap;
}

const MACHINE = 'machine (every process)';

/** Busy ticks of all CPUs since boot: everything in /proc/stat's first line but idle and iowait. */
function machineBusyTicks(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest times are already inside user).
  return f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] ?? 0);
}

/** Per group: CPU seconds between two snapshots, and as cores busy over `wallSeconds`. */
export function cpuReport(before: CpuSnapshot, after: CpuSnapshot, wallSeconds: number): string[] {
  const lines: string[] = [];
  let total = 0;
  const line = (name: string, used: number): string =>
    `    ${name.padEnd(24)} ${used.toFixed(1).padStart(7)} s CPU  ${(used / wallSeconds).toFixed(2).padStart(5)} cores`;
  for (const [name, end] of after) {
    if (name === MACHINE) continue;
    const used = end - (before.get(name) ?? 0);
    total += used;
    lines.push(line(name, used));
  }
  lines.push(line('sum of the above', total));
  lines.push(`${line(MACHINE, (after.get(MACHINE) ?? 0) - (before.get(MACHINE) ?? 0))} of ${cpus().length}`);
  return lines;
}

export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/**
 * CPU of the Postgres processes working on one database (backends, autovacuum), sampled
 * every `intervalMs` so that backends which exit during the phase still count up to
 * their last sample. Unlike "postgres (all)" it excludes other users of the server.
 */
export class DatabaseCpuSampler {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly database: string, private readonly intervalMs = 200) {}

  start(): void {
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), this.intervalMs);
  }

  /** CPU seconds used by the database's processes since `start`. */
  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.sample(false);
    let ticks = 0;
    for (const [pid, end] of this.last) ticks += end - (this.first.get(pid) ?? 0);
    return ticks / TICKS_PER_SECOND;
  }

  private sample(baseline: boolean): void {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      // Backends retitle themselves "postgres: <cluster>: <user> <database> <client> <state>".
      if (!cmdline.startsWith('postgres: ') || !cmdline.replace(/\0/g, ' ').split(/\s+/).includes(this.database)) continue;
      const t = readStat(entry);
      if (!t) continue;
      const pid = Number(entry);
      if (baseline) this.first.set(pid, t.own);
      this.last.set(pid, t.own);
    }
  }
}
