import type { Response } from 'express';
import type { StatusEvent } from '../status-event';

/**
 * One Server-Sent Events response: headers, `status` events, heartbeats while idle, and a
 * clean end. Writes after the client left are dropped.
 */
export class SseStream {
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly res: Response,
    heartbeatMs: number,
    private readonly onClose: () => void,
  ) {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    // nginx and similar proxies buffer responses unless told not to.
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write('retry: 3000\n\n');
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), heartbeatMs);
    this.heartbeat.unref();
    res.on('close', () => this.end());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends one `status` event; `id` lets a reconnecting client resume after it. */
  send(event: StatusEvent, id?: string): void {
    this.write(`${id ? `id: ${id}\n` : ''}event: status\ndata: ${JSON.stringify(event)}\n\n`);
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.onClose();
    if (!this.res.writableEnded) this.res.end();
  }

  private write(chunk: string): void {
    if (!this.closed && !this.res.writableEnded) this.res.write(chunk);
  }
}
