import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DeliveryView, NamespaceWebhookView } from '../webhook.views';

/** A namespace's webhook, as `PUT` and `GET /v1/namespaces/:namespace/webhook` answer it. */
export class NamespaceWebhookResponse implements NamespaceWebhookView {
  @ApiProperty({ example: 'demo' })
  namespace!: string;

  @ApiProperty({ example: 'https://hooks.example.com/ingest' })
  url!: string;

  @ApiProperty({ type: [String], example: ['document.ready', 'document.failed'] })
  events!: string[];

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

/** One webhook call and how it went. */
export class DeliveryResponse implements DeliveryView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'msg_6f1c0c3e-3f7a-4c55-9a51-0d1f5d1c2b7e', description: 'the `webhook-id` header the receiver saw' })
  webhookId!: string;

  @ApiProperty({ format: 'uuid' })
  documentId!: string;

  @ApiProperty({ example: 'demo' })
  namespace!: string;

  @ApiProperty({ example: 1 })
  version!: number;

  @ApiProperty({ example: 'document.ready' })
  eventType!: string;

  @ApiProperty({ enum: ['callback', 'namespace'], description: "the document's callbackUrl, or its namespace's webhook" })
  target!: string;

  @ApiProperty({ example: 'https://hooks.example.com/ingest' })
  url!: string;

  @ApiProperty({ enum: ['pending', 'delivered', 'failed'] })
  status!: string;

  @ApiProperty({ example: 1 })
  attempts!: number;

  @ApiProperty({ example: 0, description: 'times it was sent again by hand' })
  retries!: number;

  @ApiPropertyOptional({ type: Number, nullable: true, example: 200 })
  lastStatusCode!: number | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  lastError!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  deliveredAt!: string | null;
}

export class DeliveryPageResponse {
  @ApiProperty({ type: [DeliveryResponse] })
  items!: DeliveryResponse[];

  @ApiPropertyOptional({ type: String, nullable: true, description: 'pass as `cursor` for the next page' })
  nextCursor!: string | null;
}
