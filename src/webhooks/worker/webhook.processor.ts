import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { Job } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { cappedJitteredBackoff } from '../../ingest/queue/backoff';
import { DeliverWebhookPayload, WEBHOOK_QUEUE } from '../../ingest/queue/ingest.jobs';
import { JobDeadlines } from '../../ingest/worker/job-deadlines';
import { JobTries, QueueWorkerHost } from '../../ingest/worker/queue-worker.host';
import { SendOutcome, WebhookSender } from './webhook-sender';

/** Consumes `deliver-webhook` jobs (WEBHOOK_CONCURRENCY at once), retrying on its own backoff. */
@Processor(WEBHOOK_QUEUE, { autorun: false })
export class WebhookProcessor extends QueueWorkerHost<DeliverWebhookPayload, SendOutcome> {
  constructor(
    private readonly sender: WebhookSender,
    @Inject(APP_CONFIG) config: AppConfig,
    deadlines: JobDeadlines,
  ) {
    super(config, deadlines);
  }

  protected concurrency(): number {
    return this.config.webhooks.concurrency;
  }

  protected override retryDelay(): (attemptsMade: number) => number {
    return cappedJitteredBackoff(this.config.webhooks.backoffMs, this.config.webhooks.backoffMaxMs);
  }

  protected handle(job: Job<DeliverWebhookPayload, SendOutcome>, tries: JobTries): Promise<SendOutcome> {
    return this.sender.send(job.data.deliveryId, tries.made + 1 >= tries.allowed);
  }
}
