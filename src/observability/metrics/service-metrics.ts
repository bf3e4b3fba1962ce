import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric this service exports, in one registry per process. Instruments are
 * module-level so code built outside Nest's container (embedders, providers) can count
 * too. Labels only take values bounded by the code or the configuration: route templates
 * (never raw paths), stages, error classes, queue names, models of the configured
 * generations; never document ids or namespaces.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

const registers = [metricsRegistry];

// Seconds: a cheap request at the bottom, a large document's embed at the top.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP requests by route template, method and status code.',
  labelNames: ['route', 'method', 'status_code'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers,
});

export const documentsByState = new Gauge({
  name: 'ingest_documents',
  help: 'Documents by state, as recorded in Postgres (refreshed at most every METRICS_DOCUMENTS_REFRESH_MS).',
  labelNames: ['state'] as const,
  registers,
});

export const auditFindings = new Gauge({
  name: 'ingest_audit_findings',
  help: 'Drift the auditor recorded (audit_events still kept), by kind and what was done',
  labelNames: ['kind', 'action'],
  registers,
});

export const auditRows = new Gauge({
  name: 'ingest_audit_rows',
  help: 'Rows found drifting in those findings, by kind and what was done',
  labelNames: ['kind', 'action'],
  registers,
});

export const queueJobs = new Gauge({
  name: 'ingest_queue_jobs',
  help: 'Jobs by queue and state, from BullMQ (cached for METRICS_QUEUE_CACHE_MS).',
  labelNames: ['queue', 'state'] as const,
  registers,
});

export const queueOldestWaitingAge = new Gauge({
  name: 'ingest_queue_oldest_waiting_job_age_seconds',
  help: 'Age of the oldest job waiting in each queue (0 when none waits).',
  labelNames: ['queue'] as const,
  registers,
});

export const queuePaused = new Gauge({
  name: 'ingest_queue_paused',
  help: '1 when the queue is paused.',
  labelNames: ['queue'] as const,
  registers,
});

export const stageDuration = new Histogram({
  name: 'ingest_stage_duration_seconds',
  help: 'Time spent in each pipeline stage (claim, load, extract, split, embed, write), failed runs included.',
  labelNames: ['stage'] as const,
  buckets: DURATION_BUCKETS,
  registers,
});

export const acceptToReady = new Histogram({
  name: 'ingest_accept_to_ready_seconds',
  help: 'Time from the job being enqueued (the document accepted) to the document being ready.',
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600],
  registers,
});

export const chunksWritten = new Counter({
  name: 'ingest_chunks_written_total',
  help: 'Chunks written by documents that became ready.',
  registers,
});

export const documentsReady = new Counter({
  name: 'ingest_documents_ready_total',
  help: 'Document versions processed to ready.',
  registers,
});

export const ingestRetries = new Counter({
  name: 'ingest_retries_total',
  help: 'Failed ingest attempts that will be retried, by error class.',
  labelNames: ['error_class'] as const,
  registers,
});

export const ingestFailures = new Counter({
  name: 'ingest_failures_total',
  help: 'Documents that failed for good (attempts exhausted or a permanent error), by error class.',
  labelNames: ['error_class'] as const,
  registers,
});

export const embeddingRequests = new Counter({
  name: 'embedding_requests_total',
  help: 'Requests (batches) sent to the embedding model, retries included; kind: chunks (documents) or query (search).',
  labelNames: ['model', 'kind'] as const,
  registers,
});

export const embeddingTexts = new Counter({
  name: 'embedding_texts_total',
  help: 'Texts sent to the embedding model: chunks missing from the cache, or search queries.',
  labelNames: ['model', 'kind'] as const,
  registers,
});

export const embeddingTokens = new Counter({
  name: 'embedding_tokens_total',
  help: 'Tokens of the chunks embedded: billed by the provider, else counted by the model tokenizer, else estimated.',
  labelNames: ['model'] as const,
  registers,
});

export const embeddingRateLimited = new Counter({
  name: 'embedding_rate_limited_total',
  help: 'Answers 429 (too many requests) from the embedding API.',
  labelNames: ['model'] as const,
  registers,
});

export const embeddingBudgetWait = new Histogram({
  name: 'embedding_rate_budget_wait_seconds',
  help: 'Time each embedding request waited for the shared rate budget (EMBEDDING_RPM / EMBEDDING_TPM, 429 pauses).',
  labelNames: ['model'] as const,
  buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers,
});

export const embeddingCacheHits = new Counter({
  name: 'embedding_cache_hits_total',
  help: 'Chunk texts whose vector came from the embedding cache.',
  labelNames: ['model'] as const,
  registers,
});

export const embeddingCacheMisses = new Counter({
  name: 'embedding_cache_misses_total',
  help: 'Chunk texts that had to be embedded (not in the cache, or the cache is off).',
  labelNames: ['model'] as const,
  registers,
});

export const reconcilerRequeued = new Counter({
  name: 'ingest_reconciler_requeued_total',
  help: 'Documents the reconciler enqueued again because the queue had lost their job.',
  registers,
});

export const reconcilerDeadLetters = new Counter({
  name: 'ingest_reconciler_dead_letters_total',
  help: 'Dead-letter copies the reconciler added or removed to match Postgres.',
  labelNames: ['action'] as const,
  registers,
});

export const reindexDocuments = new Gauge({
  name: 'ingest_reindex_documents',
  help: 'Progress of the running re-embed: documents the switch waits for (total), held by the new generation (done), failed.',
  labelNames: ['state'] as const,
  registers,
});

export const reindexRunning = new Gauge({
  name: 'ingest_reindex_running',
  help: '1 while a re-embed into a new generation runs.',
  registers,
});

export const reindexProcessed = new Counter({
  name: 'ingest_reindex_documents_processed_total',
  help: 'Re-embed jobs finished by this process, by outcome (reindexed, stale, failed).',
  labelNames: ['outcome'] as const,
  registers,
});
