/**
 * Throughput of the in-process all-MiniLM-L6-v2 provider: fp32 vs int8 weights at
 * maxBatch 1 / 8 / 32 over 200 fixed passages of 100–200 words (windows of the
 * licence texts in /usr/share/common-licenses, chosen deterministically).
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/local-embed.bench.js [--threads 2] [--passages 200]
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { LocalEmbeddingProvider } from '../src/embedding/local/local-embedding.provider';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function passages(count: number): string[] {
  const dir = '/usr/share/common-licenses';
  let words: string[] = [];
  try {
    for (const f of readdirSync(dir).sort()) {
      words = words.concat(readFileSync(path.join(dir, f), 'utf8').split(/\s+/).filter(Boolean));
    }
  } catch {
    /* fall back to synthetic text below */
  }
  if (words.length < 1000) {
    const vocab = 'data model vector search index query text document chunk token embed store result rank score'.split(' ');
    words = Array.from({ length: 50_000 }, (_, i) => vocab[(i * 7919) % vocab.length]);
  }
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31); // deterministic LCG
  return Array.from({ length: count }, () => {
    const len = 100 + Math.floor(rand() * 101);
    const start = Math.floor(rand() * (words.length - len));
    return words.slice(start, start + len).join(' ');
  });
}

async function main(): Promise<void> {
  const threads = arg('threads', 2);
  const texts = passages(arg('passages', 200));
  const words = texts.reduce((s, t) => s + t.split(' ').length, 0);
  console.log(`${texts.length} passages, ${(words / texts.length).toFixed(0)} words on average, intraOpNumThreads=${threads}`);

  const rates = new Map<string, number>();
  for (const quantize of [false, true]) {
    for (const maxBatch of [1, 8, 32]) {
      const provider = await LocalEmbeddingProvider.create({ threads, quantize, maxBatch });
      try {
        await provider.embed(texts.slice(0, 8)); // warm-up
        const t0 = process.hrtime.bigint();
        await provider.embed(texts);
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        const rate = texts.length / seconds;
        rates.set(`${quantize ? 'int8' : 'fp32'}/${maxBatch}`, rate);
        console.log(`${provider.modelId.padEnd(32)} batch ${String(maxBatch).padStart(2)}: ${rate.toFixed(1).padStart(6)} passages/s  (${seconds.toFixed(2)} s)`);
      } finally {
        await provider.close();
      }
    }
  }
  console.log('\nratios');
  for (const b of [1, 8, 32]) {
    console.log(`  batch ${String(b).padStart(2)}: int8/fp32 = ${((rates.get(`int8/${b}`) ?? NaN) / (rates.get(`fp32/${b}`) ?? NaN)).toFixed(2)}x`);
  }
  for (const q of ['fp32', 'int8']) {
    const base = rates.get(`${q}/1`) ?? NaN;
    console.log(`  ${q}: batch 8 / batch 1 = ${((rates.get(`${q}/8`) ?? NaN) / base).toFixed(2)}x, batch 32 / batch 1 = ${((rates.get(`${q}/32`) ?? NaN) / base).toFixed(2)}x`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
