import { BadRequestException, BeforeApplicationShutdown, Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { Response } from 'express';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { DocumentsRepository } from '../../documents/documents.repository';
import { snapshotEvent } from '../document-snapshot';
import { LoggedStatusEvent, compareStreamIds, isFinal, isStreamId } from '../status-event';
import { StatusEventLog } from '../status-event-log';
import { StatusEventBus } from './status-event-bus';
import { SseStream } from './sse-stream';

const HISTORY_PAGE = 500;

/**
 * The SSE streams of this replica: one document until it is ready or failed, or a whole
 * namespace without end, resumable after `Last-Event-ID` from the namespace's history.
 * Each subscribes before it reads the stored state, so no change falls in between.
 */
@Injectable()
export class StatusStreamsService implements BeforeApplicationShutdown {
  private readonly open = new Set<SseStream>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly bus: StatusEventBus,
    private readonly log: StatusEventLog,
    private readonly documents: DocumentsRepository,
  ) {}

  /** Streams document `id`'s changes; 404 before any byte is sent if it does not exist. */
  async document(id: string, res: Response): Promise<void> {
    let stream: SseStream | null = null;
    let version = 0;
    const early: LoggedStatusEvent[] = [];
    const forward = (logged: LoggedStatusEvent): void => {
      if (!stream || stream.isClosed || logged.event.version < version) return;
      stream.send(logged.event, logged.id);
      if (isFinal(logged.event)) stream.end();
    };
    const stop = await this.bus.listen((logged) => {
      if (logged.event.documentId !== id) return;
      if (stream) forward(logged);
      else early.push(logged);
    });
    const doc = await this.documents.findById(id).catch((err: unknown) => {
      stop();
      throw err;
    });
    if (!doc) {
      stop();
      throw new NotFoundException(`document ${id} not found`);
    }
    // Deleting a document announces nothing: look now and then, and end its stream once it is gone.
    const watch = setInterval(() => {
      this.documents.findById(id).then(
        (current) => current === null && stream?.end(),
        () => undefined,
      );
    }, this.config.events.heartbeatMs);
    watch.unref();
    stream = this.openStream(res, () => {
      clearInterval(watch);
      stop();
    });
    version = doc.version;
    const snapshot = snapshotEvent(doc);
    stream.send(snapshot);
    if (isFinal(snapshot)) return stream.end();
    early.forEach(forward);
  }

  /** Streams every change in `namespace`, first those recorded after `lastEventId` when given. */
  async namespace(namespace: string, lastEventId: string | undefined, res: Response): Promise<void> {
    if (lastEventId !== undefined && !isStreamId(lastEventId)) {
      throw new BadRequestException('Last-Event-ID must be the id of an event this service sent (digits-digits)');
    }
    let lastSent = lastEventId;
    let live = false;
    const early: LoggedStatusEvent[] = [];
    let stream: SseStream | null = null;
    const forward = (logged: LoggedStatusEvent): void => {
      if (!stream || (lastSent !== undefined && compareStreamIds(logged.id, lastSent) <= 0)) return;
      stream.send(logged.event, logged.id);
      lastSent = logged.id;
    };
    const stop = await this.bus.listen((logged) => {
      if (logged.event.namespace !== namespace) return;
      if (live) forward(logged);
      else early.push(logged);
    });
    stream = this.openStream(res, stop);
    try {
      while (lastSent !== undefined && !stream.isClosed) {
        const page = await this.log.after(namespace, lastSent, HISTORY_PAGE);
        page.forEach(forward);
        if (page.length < HISTORY_PAGE) break;
      }
    } catch {
      // History unavailable (Redis down): close, and the client reconnects with its last id.
      return stream.end();
    }
    early.forEach(forward);
    live = true;
  }

  private openStream(res: Response, cleanup: () => void): SseStream {
    const stream: SseStream = new SseStream(res, this.config.events.heartbeatMs, () => {
      cleanup();
      this.open.delete(stream);
    });
    this.open.add(stream);
    return stream;
  }

  /** Open streams would hold the HTTP server open: end them so the process can stop. */
  beforeApplicationShutdown(): void {
    for (const stream of [...this.open]) stream.end();
  }
}
