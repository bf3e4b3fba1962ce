/** The answer to a POST /v1/documents, as sent and as stored for Idempotency-Key replays. */
export interface SubmitAnswer {
  statusCode: 200 | 202;
  body: { id: string; status: string; version: number; deduplicated: boolean; statusUrl: string };
}
