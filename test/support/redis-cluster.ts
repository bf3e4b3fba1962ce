import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

/** Three ports whose cluster-bus ports (+10000) are free too. */
async function clusterPorts(count: number): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 20000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const free = await Promise.all(ports.flatMap((p) => [portFree(p), portFree(p + 10000)]));
    if (free.every(Boolean)) return ports;
  }
  throw new Error('no free ports for a Redis Cluster');
}

/**
 * A real Redis Cluster of three masters (no replicas, no persistence) on loopback ports,
 * made with `redis-server --cluster-enabled yes` and `redis-cli --cluster create`.
 */
export class LocalRedisCluster {
  ports: number[] = [];
  private readonly procs: ChildProcess[] = [];
  private dir = '';

  async start(masters = 3): Promise<void> {
    this.ports = await clusterPorts(masters);
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'redis-cluster-'));
    for (const port of this.ports) {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`];
      args.push('--dir', this.dir, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction');
      this.procs.push(spawn('redis-server', args, { stdio: 'ignore' }));
    }
    for (const port of this.ports) await this.waitForPing(port);
    const nodes = this.ports.map((p) => `127.0.0.1:${p}`);
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    for (const port of this.ports) await this.waitFor(port, ['cluster', 'info'], /cluster_state:ok/);
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
    await Promise.all(
      this.procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGKILL');
          }),
      ),
    );
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  private async waitForPing(port: number): Promise<void> {
    await this.waitFor(port, ['ping'], /PONG/);
  }

  private async waitFor(port: number, args: string[], expected: RegExp): Promise<void> {
    const deadline = Date.now() + 15000;
    for (;;) {
      const out = await run('redis-cli', ['-p', String(port), ...args]).then((r) => r.stdout, () => '');
      if (expected.test(out)) return;
      if (Date.now() > deadline) throw new Error(`redis ${port}: ${args.join(' ')} never matched ${expected}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
