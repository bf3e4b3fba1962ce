import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DocumentCallbacksRepository } from '../document-callbacks.repository';
import { WebhookUrlPolicy } from './webhook-url.policy';

/** A document's `callbackUrl`: checked when posted, stored with the version it came with. */
@Injectable()
export class DocumentCallbacks {
  constructor(
    private readonly policy: WebhookUrlPolicy,
    private readonly callbacks: DocumentCallbacksRepository,
  ) {}

  /** The URL as it will be called; 400 with the reason when it may not be. */
  check(raw: string): Promise<string> {
    return this.policy.check('callbackUrl', raw);
  }

  /** Records the callback of a new document or version (none clears an earlier one). */
  record(em: EntityManager, documentId: string, url: string | null): Promise<void> {
    return this.callbacks.set(em, documentId, url);
  }
}
