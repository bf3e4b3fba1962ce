import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function portFree(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `count` consecutive free ports whose cluster-bus ports (+10000) are free too. */
async function freePorts(count: number): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 20000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const free = await Promise.all(ports.flatMap((p) => [portFree(p), portFree(p + 10000)]));
    if (free.every(Boolean)) return ports;
  }
  throw new Error('no free ports for a local Redis');
}

/** Polls `redis-cli -p port args` until its output matches. */
async function waitForRedis(port: number, args: string[], expected: RegExp): Promise<void> {
  const deadline = Date.now() + 15000;
  for (;;) {
    const out = await run('redis-cli', ['-p', String(port), ...args]).then((r) => r.stdout, () => '');
    if (expected.test(out)) return;
    if (Date.now() > deadline) throw new Error(`redis ${port}: ${args.join(' ')} never matched ${expected}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function killAll(procs: ChildProcess[]): Promise<void> {
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null) return resolve();
          p.once('exit', () => resolve());
          p.kill('SIGKILL');
        }),
    ),
  );
}

const EPHEMERAL = ['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'];

/**
 * A real Redis Cluster of three masters (no replicas, no persistence) on loopback ports,
 * made with `redis-server --cluster-enabled yes` and `redis-cli --cluster create`.
 */
export class LocalRedisCluster {
  ports: number[] = [];
  private readonly procs: ChildProcess[] = [];
  private dir = '';

  async start(masters = 3): Promise<void> {
    this.ports = await freePorts(masters);
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'redis-cluster-'));
    for (const port of this.ports) {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`];
      args.push('--dir', this.dir, ...EPHEMERAL);
      this.procs.push(spawn('redis-server', args, { stdio: 'ignore' }));
    }
    for (const port of this.ports) await waitForRedis(port, ['ping'], /PONG/);
    const nodes = this.ports.map((p) => `127.0.0.1:${p}`);
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    for (const port of this.ports) await waitForRedis(port, ['cluster', 'info'], /cluster_state:ok/);
  }

  get nodes(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(',');
  }

  /** The keys matching `pattern` that each master holds, by port. */
  async keysByNode(pattern: string): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    for (const port of this.ports) {
      const { stdout } = await run('redis-cli', ['-p', String(port), '--scan', '--pattern', pattern]);
      out.set(port, stdout.split('\n').filter((k) => k !== ''));
    }
    return out;
  }

  async stop(): Promise<void> {
    await killAll(this.procs);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A primary and one Sentinel watching it as `name`, on loopback ports. */
export class LocalRedisSentinel {
  primaryPort = 0;
  sentinelPort = 0;
  private readonly procs: ChildProcess[] = [];
  private dir = '';

  async start(name: string): Promise<void> {
    [this.primaryPort, this.sentinelPort] = await freePorts(2);
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'redis-sentinel-'));
    this.procs.push(spawn('redis-server', ['--port', String(this.primaryPort), '--bind', '127.0.0.1', '--dir', this.dir, ...EPHEMERAL], { stdio: 'ignore' }));
    await waitForRedis(this.primaryPort, ['ping'], /PONG/);
    // A Sentinel rewrites its configuration file, so it gets one of its own.
    const conf = path.join(this.dir, 'sentinel.conf');
    writeFileSync(conf, `port ${this.sentinelPort}\nbind 127.0.0.1\nsentinel monitor ${name} 127.0.0.1 ${this.primaryPort} 1\n`);
    this.procs.push(spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }));
    await waitForRedis(this.sentinelPort, ['sentinel', 'get-master-addr-by-name', name], new RegExp(String(this.primaryPort)));
  }

  async stop(): Promise<void> {
    await killAll(this.procs);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
