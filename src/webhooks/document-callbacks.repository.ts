import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** The `callbackUrl` a document was posted with, called when it is ready or failed. */
@Injectable()
export class DocumentCallbacksRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Sets (or with null, clears) the document's callback, in the caller's transaction. */
  async set(em: EntityManager, documentId: string, url: string | null): Promise<void> {
    if (url === null) {
      await em.query(`DELETE FROM document_callbacks WHERE document_id = $1`, [documentId]);
      return;
    }
    await em.query(
      `INSERT INTO document_callbacks (document_id, url) VALUES ($1, $2)
       ON CONFLICT (document_id) DO UPDATE SET url = EXCLUDED.url`,
      [documentId, url],
    );
  }

  async get(documentId: string): Promise<string | null> {
    const rows: Array<{ url: string }> = await this.db.query(`SELECT url FROM document_callbacks WHERE document_id = $1`, [documentId]);
    return rows[0]?.url ?? null;
  }
}
