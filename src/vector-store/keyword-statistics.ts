import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ReadDatabase } from '../database/read-database.module';
import { LexemeFrequencies } from './keyword-plan';

/** How long a process trusts what it read before reading it again. */
const TTL_MS = 60_000;
/** Namespaces whose chunk count a process keeps. */
const MAX_NAMESPACES = 10_000;

/** A value read again in the background once it is older than TTL_MS; the last one serves meanwhile. */
class Refreshed<T> {
  private value?: Promise<T>;
  private readAt = 0;
  private reading = false;

  constructor(private readonly read: () => Promise<T>) {}

  get(): Promise<T> {
    if (!this.value) return (this.value = this.load());
    if (Date.now() - this.readAt > TTL_MS && !this.reading) {
      this.load().then(
        (v) => (this.value = Promise.resolve(v)),
        () => undefined,
      );
    }
    return this.value;
  }

  private load(): Promise<T> {
    this.reading = true;
    const value = this.read().finally(() => (this.reading = false));
    value.then(
      () => (this.readAt = Date.now()),
      // A failed first read is forgotten so the next query reads again.
      () => {
        if (this.readAt === 0) this.value = undefined;
      },
    );
    return value;
  }
}

/**
 * What BM25 needs to know of a namespace without scanning it per query: how many chunks
 * it has, and how common each lexeme is (Postgres's own statistics of `chunks.content_tsv`,
 * kept by autovacuum's ANALYZE, over all namespaces). Each is read at most once a minute,
 * in the background while the last value serves.
 */
@Injectable()
export class KeywordStatistics {
  private readonly frequencies = new Refreshed(() => this.readFrequencies());
  private readonly table = new Refreshed(async () => {
    // The planner's own estimate, kept by autovacuum: no scan of the table.
    const rows: Array<{ n: number }> = await this.db.query(`SELECT greatest(reltuples, 0)::float8 AS n FROM pg_class WHERE oid = 'chunks'::regclass`);
    return Number(rows[0]?.n ?? 0);
  });
  private readonly totals = new Map<string, Refreshed<number>>();

  // Statistics plan searches, which read from the replica when there is one.
  private readonly db: DataSource;

  constructor(reads: ReadDatabase) {
    this.db = reads.source;
  }

  /** Chunks in `namespace` (in the active generation), about a minute old at most. */
  namespaceChunks(namespace: string): Promise<number> {
    let total = this.totals.get(namespace);
    if (!total) {
      // Namespaces come from requests: keep the counts of the most recently added ones only.
      if (this.totals.size >= MAX_NAMESPACES) this.totals.delete(this.totals.keys().next().value as string);
      total = new Refreshed(async () => {
        const rows: Array<{ n: number }> = await this.db.query(`SELECT count(*)::float8 AS n FROM chunks WHERE namespace = $1`, [namespace]);
        return Number(rows[0].n);
      });
      this.totals.set(namespace, total);
    }
    return total.get();
  }

  /** Chunks in the whole table (every namespace), as Postgres estimates them, about a minute old at most. */
  tableChunks(): Promise<number> {
    return this.table.get();
  }

  /** How common the lexemes of the chunk text are, about a minute old at most. */
  lexemeFrequencies(): Promise<LexemeFrequencies> {
    return this.frequencies.get();
  }

  private async readFrequencies(): Promise<LexemeFrequencies> {
    const rows: Array<{ elems: string[] | null; freqs: number[] | null }> = await this.db.query(
      `SELECT most_common_elems::text::text[] AS elems, most_common_elem_freqs AS freqs
         FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'chunks' AND attname = 'content_tsv'`,
    );
    const elems = rows[0]?.elems ?? [];
    const freqs = rows[0]?.freqs ?? [];
    const common = new Map<string, number>();
    elems.forEach((e, i) => common.set(e, Number(freqs[i])));
    // After one frequency per element come the lowest and highest of them: any other lexeme is rarer than the lowest.
    const ceiling = elems.length > 0 ? Number(freqs[elems.length]) : 0;
    return { common, ceiling };
  }
}
