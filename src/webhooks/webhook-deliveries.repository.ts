import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { WebhookEventType } from './webhook-event-types';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';
export type DeliveryTarget = 'callback' | 'namespace';

export interface WebhookDelivery {
  id: string;
  documentId: string;
  namespace: string;
  version: number;
  eventType: WebhookEventType;
  target: DeliveryTarget;
  url: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  retries: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  deliveredAt: Date | null;
}

export type NewDelivery = Pick<WebhookDelivery, 'documentId' | 'namespace' | 'version' | 'eventType' | 'target' | 'url' | 'body'>;

export interface DeliveryFilter {
  status?: DeliveryStatus;
  namespace?: string;
  limit: number;
  /** Only deliveries created before this one (keyset paging, newest first). */
  before?: { createdAt: Date; id: string };
}

// Columns under their camelCase names, so rows come back as WebhookDelivery.
const COLUMNS = `id, document_id AS "documentId", namespace, version, event_type AS "eventType", target, url, body, status, attempts,
  retries, last_status_code AS "lastStatusCode", last_error AS "lastError", created_at AS "createdAt", updated_at AS "updatedAt",
  delivered_at AS "deliveredAt"`;

/** A document that settled with a webhook to call but no delivery recorded for it. */
export interface Undispatched {
  documentId: string;
  namespace: string;
  version: number;
  status: 'ready' | 'failed';
  settledAt: Date;
}

/** Every webhook delivery and how it went: the record behind listing and retrying failed ones. */
@Injectable()
export class WebhookDeliveriesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Records a delivery; null when this (version, event, target) was already recorded (a repeated dispatch). */
  async create(d: NewDelivery): Promise<WebhookDelivery | null> {
    const rows: WebhookDelivery[] = await this.db.query(
      `INSERT INTO webhook_deliveries (document_id, namespace, version, event_type, target, url, body)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (document_id, version, event_type, target) DO NOTHING RETURNING ${COLUMNS}`,
      [d.documentId, d.namespace, d.version, d.eventType, d.target, d.url, d.body],
    );
    return rows[0] ?? null;
  }

  async get(id: string): Promise<WebhookDelivery | null> {
    const rows: WebhookDelivery[] = await this.db.query(`SELECT ${COLUMNS} FROM webhook_deliveries WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** Records one attempt's outcome; `final` marks a failure that will not be retried. */
  async recordAttempt(id: string, outcome: { delivered: boolean; final: boolean; statusCode: number | null; error: string | null }): Promise<void> {
    const status: DeliveryStatus = outcome.delivered ? 'delivered' : outcome.final ? 'failed' : 'pending';
    await this.db.query(
      `UPDATE webhook_deliveries
          SET attempts = attempts + 1, status = $2, last_status_code = $3, last_error = $4, updated_at = now(),
              delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END
        WHERE id = $1`,
      [id, status, outcome.statusCode, outcome.error],
    );
  }

  /** Puts a failed delivery back to pending; returns it with its retry count, or null if it is not failed. */
  async reopen(id: string): Promise<WebhookDelivery | null> {
    const [rows]: [WebhookDelivery[], number] = await this.db.query(
      `UPDATE webhook_deliveries SET status = 'pending', retries = retries + 1, updated_at = now()
        WHERE id = $1 AND status = 'failed' RETURNING ${COLUMNS}`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** Newest first. */
  async list(f: DeliveryFilter): Promise<WebhookDelivery[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.status) where.push(`status = $${params.push(f.status)}`);
    if (f.namespace) where.push(`namespace = $${params.push(f.namespace)}`);
    if (f.before) where.push(`(created_at, id) < ($${params.push(f.before.createdAt)}, $${params.push(f.before.id)})`);
    const rows: WebhookDelivery[] = await this.db.query(
      `SELECT ${COLUMNS} FROM webhook_deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC, id DESC LIMIT $${params.push(f.limit)}`,
      params,
    );
    return rows;
  }

  /**
   * Documents that became ready or failed between `from` and `to` and have a callback, or a
   * namespace webhook (registered before) that wants the event, yet no delivery for that
   * version: their dispatch was lost (the worker stopped between the commit and the dispatch).
   */
  undispatched(from: Date, to: Date, limit: number): Promise<Undispatched[]> {
    return this.db.query(
      `SELECT d.id AS "documentId", d.namespace, d.version, d.status, d.updated_at AS "settledAt"
         FROM documents d
         LEFT JOIN document_callbacks c ON c.document_id = d.id
         LEFT JOIN namespace_webhooks w ON w.namespace = d.namespace AND w.created_at < d.updated_at
        WHERE d.status IN ('ready', 'failed') AND d.updated_at >= $1 AND d.updated_at < $2
          AND (c.url IS NOT NULL OR ('document.' || d.status) = ANY (w.events))
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries x WHERE x.document_id = d.id AND x.version = d.version)
        ORDER BY d.updated_at
        LIMIT $3`,
      [from, to, limit],
    );
  }
}
