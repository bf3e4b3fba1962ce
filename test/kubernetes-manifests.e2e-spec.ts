import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PATH_METADATA } from '@nestjs/common/constants';
import { loadConfig } from '../src/config/app-config';
import { HealthController } from '../src/health/health.controller';
import { INGEST_QUEUE } from '../src/ingest/queue/ingest.jobs';
import { Container, K8sObject, find, kustomize, loadManifestDir, podLabels, podSpec } from './support/manifests';

const ROOT = path.join(__dirname, '..');
const BASE = path.join(ROOT, 'deploy/kubernetes/base');
const OVERLAY = path.join(ROOT, 'deploy/kubernetes/overlays/example');
const CLUSTER_OVERLAY = path.join(ROOT, 'deploy/kubernetes/overlays/redis-cluster');


/** JSON-schema validation from the Kubernetes (and KEDA) OpenAPI schemas, one model class per kind. */
function validate(o: K8sObject): void {
  const module =
    o.apiVersion === 'keda.sh/v1alpha1'
      ? `@kubernetes-models/keda/keda.sh/v1alpha1/${o.kind}`
      : `kubernetes-models/${o.apiVersion}/${o.kind}`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Model = (require(module) as Record<string, new (data: unknown) => { validate(): void }>)[o.kind];
  new Model(o.kind === 'Secret' ? withUnwrappedData(o) : o).validate();
}

/** kustomize wraps long base64 values over lines, which the API server's decoder ignores. */
function withUnwrappedData(o: K8sObject): K8sObject {
  return { ...o, data: Object.fromEntries(Object.entries(o.data ?? {}).map(([k, v]) => [k, v.replace(/\s+/g, '')])) };
}

/** The environment a container starts with: ConfigMap, literal values, placeholders for secrets. */
function containerEnv(objects: K8sObject[], c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, find(objects, 'ConfigMap', from.configMapRef.name).data);
  }
  for (const v of c.env ?? []) {
    if (v.value !== undefined) env[v.name] = v.value;
    else if (v.valueFrom?.secretKeyRef) env[v.name] = SECRET_PLACEHOLDERS[v.valueFrom.secretKeyRef.key] ?? 'secret';
  }
  return env;
}

const SECRET_PLACEHOLDERS: Record<string, string> = {
  DATABASE_URL: 'postgres://ingest:pw@postgres:5432/ingest',
  REDIS_URL: 'redis://:pw@redis:6379',
  ADMIN_API_KEY: 'a-placeholder-admin-key-of-more-than-32-characters',
};

/** Every variable `loadConfig` reads when started with `env`. */
function variablesRead(env: Record<string, string>): Set<string> {
  const read = new Set<string>();
  loadConfig(new Proxy(env, { get: (target, key) => (typeof key === 'string' && read.add(key), target[key as string]) }));
  return read;
}

function healthPath(method: 'live' | 'ready'): string {
  const base = Reflect.getMetadata(PATH_METADATA, HealthController) as string;
  const sub = Reflect.getMetadata(PATH_METADATA, HealthController.prototype[method]) as string;
  return `/${base}/${sub}`;
}

function portNumber(c: Container, port: number | string): number {
  if (typeof port === 'number') return port;
  const named = c.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`container ${c.name} has no port named ${port}`);
  return named.containerPort;
}

function checkManifests(objects: K8sObject[]): void {
  const api = find(objects, 'Deployment', 'ingest-api');
  const worker = find(objects, 'Deployment', 'ingest-worker');
  const job = find(objects, 'Job', 'ingest-migrate');
  const [apiC] = podSpec(api).containers;
  const [workerC] = podSpec(worker).containers;
  const [jobC] = podSpec(job).containers;

  // One image, three commands, each an entry point that exists.
  expect(new Set([apiC.image, workerC.image, jobC.image]).size).toBe(1);
  expect(apiC.command).toEqual(['node', 'dist/src/main.js']);
  expect(workerC.command).toEqual(['node', 'dist/src/worker.js']);
  expect(jobC.command).toEqual(['node', 'dist/src/database/migrate.js']);
  for (const c of [apiC, workerC, jobC]) {
    const source = c.command![1].replace(/^dist\//, '').replace(/\.js$/, '.ts');
    expect(existsSync(path.join(ROOT, source))).toBe(true);
  }

  for (const [deployment, c, role, portOf] of [
    [api, apiC, 'api', (cfg: ReturnType<typeof loadConfig>) => cfg.port],
    [worker, workerC, 'worker', (cfg: ReturnType<typeof loadConfig>) => cfg.workerPort],
  ] as const) {
    const env = containerEnv(objects, c);
    const config = loadConfig(env);
    if (role === 'api') expect(config.role).toBe('api');

    // Every variable set is one the service reads.
    const read = variablesRead(env);
    const unknown = Object.keys(env).filter((name) => !read.has(name));
    expect(unknown).toEqual([]);

    // Probes on the real paths, on the port the process listens on.
    expect(c.livenessProbe?.httpGet?.path).toBe(healthPath('live'));
    expect(c.readinessProbe?.httpGet?.path).toBe(healthPath('ready'));
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
      expect(portNumber(c, probe!.httpGet!.port)).toBe(portOf(config));
    }

    // Kubernetes waits longer than a stopping process gives its work.
    expect(podSpec(deployment).terminationGracePeriodSeconds! * 1000).toBeGreaterThan(config.queue.shutdownGraceMs);
    expect(c.resources?.requests).toEqual(expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }));
    expect(c.resources?.limits).toEqual(expect.objectContaining({ memory: expect.any(String) }));
  }

  // Services, PDBs and autoscalers point at the pods they mean.
  const apiLabels = podLabels(api);
  const service = find(objects, 'Service', 'ingest-api').spec as { selector: Record<string, string>; ports: Array<{ targetPort: string | number }> };
  expect(apiLabels).toMatchObject(service.selector);
  expect(portNumber(apiC, service.ports[0].targetPort)).toBe(loadConfig(containerEnv(objects, apiC)).port);
  for (const [pdb, labels] of [
    [find(objects, 'PodDisruptionBudget', 'ingest-api'), apiLabels],
    [find(objects, 'PodDisruptionBudget', 'ingest-worker'), podLabels(worker)],
  ] as const) {
    expect(labels).toMatchObject((pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels);
  }
  expect(find(objects, 'HorizontalPodAutoscaler', 'ingest-api').spec).toMatchObject({ scaleTargetRef: { kind: 'Deployment', name: 'ingest-api' } });

  // KEDA reads the lists BullMQ writes for this prefix: waiting and active jobs.
  const scaled = find(objects, 'ScaledObject', 'ingest-worker').spec as {
    scaleTargetRef: { name: string };
    triggers: Array<{ type: string; metadata: { listName: string } }>;
  };
  expect(scaled.scaleTargetRef.name).toBe('ingest-worker');
  const workerConfig = loadConfig(containerEnv(objects, workerC));
  const prefix = workerConfig.queue.prefix;
  const trigger = workerConfig.redis.clusterNodes ? 'redis-cluster' : 'redis';
  expect(scaled.triggers.map((t) => [t.type, t.metadata.listName])).toEqual([
    [trigger, `${prefix}:${INGEST_QUEUE}:wait`],
    [trigger, `${prefix}:${INGEST_QUEUE}:active`],
  ]);
}

describe('Kubernetes manifests', () => {
  it('the base validates against the Kubernetes and KEDA schemas', () => {
    const objects = loadManifestDir(BASE);
    expect(objects.map((o) => o.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'Deployment', 'HorizontalPodAutoscaler', 'Job', 'PodDisruptionBudget', 'PodDisruptionBudget', 'ScaledObject', 'Service', 'TriggerAuthentication'].sort(),
    );
    for (const o of objects) expect(() => validate(o)).not.toThrow();
  });

  it('a schema error is caught (the validation is not vacuous)', () => {
    const broken = { ...find(loadManifestDir(BASE), 'Deployment', 'ingest-api') };
    broken.spec = { ...broken.spec, replicas: 'two' };
    expect(() => validate(broken)).toThrow(/replicas/);
  });

  it('the example overlay builds with kustomize, validates, and agrees with the code', () => {
    const objects = kustomize(OVERLAY);
    if (!objects) {
      console.warn('kubectl not installed: the overlay build is not checked');
      checkManifests([...loadManifestDir(BASE), secretFrom(OVERLAY)]);
      return;
    }
    for (const o of objects) expect(() => validate(o)).not.toThrow();
    expect(objects.every((o) => (o.metadata as { namespace?: string }).namespace === 'ingest')).toBe(true);
    checkManifests(objects);
    const secret = find(objects, 'Secret', 'ingest-secrets');
    const referenced = new Set(
      objects
        .filter((o) => o.kind === 'Deployment' || o.kind === 'Job')
        .flatMap((o) => podSpec(o).containers.flatMap((c) => c.env ?? []))
        .map((v) => v.valueFrom?.secretKeyRef?.key)
        .filter((k): k is string => k !== undefined),
    );
    for (const key of referenced) expect(Object.keys(secret.data ?? {})).toContain(key);
  });

  it('the Redis Cluster overlay hash-tags the prefix and points KEDA at the same lists', () => {
    const objects = kustomize(CLUSTER_OVERLAY);
    if (!objects) return void console.warn('kubectl not installed: the cluster overlay is not checked');
    for (const o of objects) expect(() => validate(o)).not.toThrow();
    checkManifests(objects);
    expect(find(objects, 'ConfigMap', 'ingest-config').data).toMatchObject({ QUEUE_PREFIX: '{ingest}' });
  });

  it('docker compose runs the same topology: migration, API, two workers on the same image', () => {
    const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { command?: string[]; image?: string; deploy?: { replicas?: number }; environment?: Record<string, string> }>;
    };
    const s = compose.services;
    expect(s.migrate.command).toEqual(['node', 'dist/src/database/migrate.js']);
    expect(s.api.command).toEqual(['node', 'dist/src/main.js']);
    expect(s.api.environment?.ROLE).toBe('api');
    expect(s.worker.command).toEqual(['node', 'dist/src/worker.js']);
    expect(s.worker.deploy?.replicas).toBe(2);
    expect(new Set([s.migrate.image, s.api.image, s.worker.image]).size).toBe(1);
  });
});

/** The overlay's Secret keys, for machines without kubectl. */
function secretFrom(dir: string): K8sObject {
  const data = Object.fromEntries(
    readFileSync(path.join(dir, 'secrets.env'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ingest-secrets' }, data };
}
