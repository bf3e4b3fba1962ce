// The suite's own database and fast, deterministic defaults; a caller's env still wins.
const defaults: Record<string, string> = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/ingest_test',
  REDIS_URL: 'redis://127.0.0.1:6379',
  EMBEDDING_PROVIDER: 'hash',
  EMBEDDING_DIMENSION: '384',
  QUEUE_BACKOFF_MS: '50',
  // The suite runs several models (hash, scripted, local, a fake hosted one) on one
  // database on purpose; test/model-guard.e2e-spec.ts checks the refusal itself.
  ALLOW_MODEL_MISMATCH: 'true',
  // One database serves every file's queue prefix: a new prefix holds no marker, and must not take the
  // others' unfinished documents (test/redis-loss.e2e-spec.ts turns it on).
  REDIS_LOSS_SWEEP: 'false',
  // Suites post far faster than a caller would; the rate-limit tests set their own budgets.
  RATE_LIMIT_WRITE_PER_MIN: '0',
  RATE_LIMIT_SEARCH_PER_MIN: '0',
};
for (const [key, value] of Object.entries(defaults)) {
  if (process.env[`TEST_${key}`] !== undefined) process.env[key] = process.env[`TEST_${key}`];
  else process.env[key] = value;
}
