import { FileResult, Outcome } from './add-documents';

const ORDER: Outcome[] = ['ready', 'deduplicated', 'queued', 'processing', 'failed'];

/** The end-of-run table: a count per outcome, then each failure (and each unfinished file) with its reason. */
export function summaryTable(results: FileResult[], skipped: string[]): string {
  const lines: string[] = [];
  const counts = new Map<Outcome, number>();
  for (const r of results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  const width = Math.max(...ORDER.map((o) => o.length), 'skipped'.length);
  for (const outcome of ORDER) {
    const n = counts.get(outcome) ?? 0;
    if (n > 0 || outcome === 'failed') lines.push(`${outcome.padEnd(width)}  ${String(n).padStart(5)}`);
  }
  if (skipped.length > 0) lines.push(`${'skipped'.padEnd(width)}  ${String(skipped.length).padStart(5)}  (unsupported type)`);
  const problems = results.filter((r) => r.outcome === 'failed' || r.outcome === 'processing');
  if (problems.length > 0) {
    const fileWidth = Math.min(60, Math.max(...problems.map((r) => r.file.length)));
    lines.push('', `${'file'.padEnd(fileWidth)}  reason`);
    for (const r of problems) lines.push(`${r.file.padEnd(fileWidth)}  ${r.reason ?? r.outcome}`);
  }
  return lines.join('\n');
}
