import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { SubmitAnswer } from './submit-answer';

/** An answer as stored under an Idempotency-Key: its status code and JSON body. */
export interface StoredAnswer {
  statusCode: number;
  body: unknown;
}

/** An answer recorded under an Idempotency-Key, with the digest of the request that got it. */
export interface RememberedAnswer<A extends StoredAnswer = SubmitAnswer> {
  requestSha256: string;
  answer: A;
}

/**
 * The `idempotency_keys` table: the first answer given under each Idempotency-Key. Both methods run inside the
 * submitting transaction, so an answer is remembered exactly when the document change it describes commits.
 */
@Injectable()
export class IdempotencyRepository {
  /**
   * Locks `key` until the transaction ends (a concurrent request with the same key waits here, so copies that
   * arrive at once are answered one after the other), then returns the answer remembered under it, if any.
   */
  async lockAndRecall<A extends StoredAnswer = SubmitAnswer>(em: EntityManager, key: string): Promise<RememberedAnswer<A> | null> {
    await em.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', [key]);
    // The answer is the one stored with this key's request digest; callers compare digests before using it.
    const rows: Array<{ request_sha256: string; status_code: A['statusCode']; response: A['body'] }> = await em.query(
      'SELECT request_sha256, status_code, response FROM idempotency_keys WHERE key = $1',
      [key],
    );
    if (rows.length === 0) return null;
    return { requestSha256: rows[0].request_sha256, answer: { statusCode: rows[0].status_code, body: rows[0].response } as A };
  }

  /** Records the answer given under `key` (which `lockAndRecall` found free in this transaction). */
  async remember(em: EntityManager, key: string, requestSha256: string, answer: StoredAnswer): Promise<void> {
    await em.query('INSERT INTO idempotency_keys (key, request_sha256, status_code, response) VALUES ($1, $2, $3, $4)', [
      key,
      requestSha256,
      answer.statusCode,
      answer.body,
    ]);
  }
}
