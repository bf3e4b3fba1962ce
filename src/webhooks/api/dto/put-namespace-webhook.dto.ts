import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayNotEmpty, ArrayUnique, IsArray, IsDefined, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { WEBHOOK_EVENT_TYPES, WebhookEventType } from '../../webhook-event-types';

/** Body of `PUT /v1/namespaces/:namespace/webhook`. */
export class PutNamespaceWebhookDto {
  @ApiProperty({ example: 'https://hooks.example.com/ingest', description: 'http or https; private and loopback addresses are refused' })
  @IsDefined({ message: 'url is required' })
  @IsString({ message: 'url must be a string' })
  @MaxLength(2048)
  url!: string;

  /** Which events to send; both when left out. */
  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_TYPES, isArray: true, description: 'both when left out' })
  @IsOptional()
  @IsArray({ message: `events must be an array of ${WEBHOOK_EVENT_TYPES.join(', ')}` })
  @ArrayNotEmpty({ message: 'events must name at least one event (or be left out for all)' })
  @ArrayUnique({ message: 'events must not repeat an event' })
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true, message: `each of events must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` })
  events?: WebhookEventType[];
}
