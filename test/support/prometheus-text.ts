/** The metric families a Prometheus text exposition declares (`# TYPE name type`). */
export function families(text: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) found.set(m[1], m[2]);
  return found;
}

/** The sum of the samples named `name` whose labels include `labels` (0 when none). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[3]);
  }
  return total;
}

/** Every label value that `label` takes on the samples of `name`. */
export function labelValues(text: string, name: string, label: string): Set<string> {
  const values = new Set<string>();
  for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} `, 'gm'))) {
    const v = new RegExp(`${label}="([^"]*)"`).exec(m[1]);
    if (v) values.add(v[1]);
  }
  return values;
}
