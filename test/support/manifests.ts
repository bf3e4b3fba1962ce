import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

/** One Kubernetes object as parsed from YAML; only the fields the checks read are typed. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}

export interface Probe {
  httpGet?: { path: string; port: number | string };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: EnvVar[];
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

export interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
}

/** Every object of every YAML file in `dir` except kustomization.yaml. */
export function loadManifestDir(dir: string): K8sObject[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('kustomization'))
    .sort()
    .flatMap((f) => parseYamlStream(readFileSync(path.join(dir, f), 'utf8'), f));
}

/** `kubectl kustomize <dir>` parsed; null when kubectl is not installed. */
export function kustomize(dir: string): K8sObject[] | null {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  return parseYamlStream(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' }), dir);
}

export function parseYamlStream(text: string, source: string): K8sObject[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    return value ? [value as K8sObject] : [];
  });
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the manifests`);
  return found;
}

/** The pod template of a Deployment or Job. */
export function podSpec(o: K8sObject): PodSpec {
  const template = (o.spec as { template: { spec: PodSpec } }).template;
  return template.spec;
}

export function podLabels(o: K8sObject): Record<string, string> {
  return (o.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
}
