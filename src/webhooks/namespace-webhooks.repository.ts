import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { WebhookEventType } from './webhook-event-types';

export interface NamespaceWebhook {
  namespace: string;
  url: string;
  events: WebhookEventType[];
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  namespace: string;
  url: string;
  events: WebhookEventType[];
  created_at: Date;
  updated_at: Date;
}

const toWebhook = (r: Row): NamespaceWebhook => ({ namespace: r.namespace, url: r.url, events: r.events, createdAt: r.created_at, updatedAt: r.updated_at });

/** The webhook each namespace may register (one per namespace). */
@Injectable()
export class NamespaceWebhooksRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async put(namespace: string, url: string, events: WebhookEventType[]): Promise<{ webhook: NamespaceWebhook; created: boolean }> {
    const rows: Array<Row & { created: boolean }> = await this.db.query(
      `INSERT INTO namespace_webhooks (namespace, url, events) VALUES ($1, $2, $3)
       ON CONFLICT (namespace) DO UPDATE SET url = EXCLUDED.url, events = EXCLUDED.events, updated_at = now()
       RETURNING *, (xmax = 0) AS created`,
      [namespace, url, events],
    );
    return { webhook: toWebhook(rows[0]), created: rows[0].created };
  }

  async get(namespace: string): Promise<NamespaceWebhook | null> {
    const rows: Row[] = await this.db.query(`SELECT * FROM namespace_webhooks WHERE namespace = $1`, [namespace]);
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  async delete(namespace: string): Promise<boolean> {
    const [, count]: [unknown, number] = await this.db.query(`DELETE FROM namespace_webhooks WHERE namespace = $1`, [namespace]);
    return count > 0;
  }
}
