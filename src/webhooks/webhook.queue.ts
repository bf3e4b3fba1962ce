import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { IngestJobName, WEBHOOK_QUEUE, WebhookQueueJobs, webhookJobId } from '../ingest/queue/ingest.jobs';
import { CAPPED_BACKOFF } from '../ingest/queue/backoff';
import { QueueGateway } from '../ingest/queue/queue-gateway';

/** The webhook queue: one job per delivery (and per manual retry of it). */
@Injectable()
export class WebhookQueue extends QueueGateway<WebhookQueueJobs> {
  constructor(@InjectQueue(WEBHOOK_QUEUE) queue: Queue, @Inject(APP_CONFIG) private readonly config: AppConfig) {
    super(queue);
  }

  async enqueue(deliveryId: string, retry: number): Promise<void> {
    await this.add({
      name: IngestJobName.DeliverWebhook,
      data: { deliveryId },
      opts: {
        jobId: webhookJobId(deliveryId, retry),
        attempts: this.config.webhooks.attempts,
        // Delays come from the webhook worker's capped jittered backoff (WEBHOOK_BACKOFF_MS, WEBHOOK_BACKOFF_MAX_MS).
        backoff: { type: CAPPED_BACKOFF },
        removeOnComplete: { age: 3600, count: 10000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    });
  }
}
