import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

class QueueStateResponse {
  @ApiProperty({ example: 'ingest' })
  name!: string;

  @ApiProperty({
    description: 'jobs by state',
    example: { waiting: 0, active: 1, delayed: 0, prioritized: 0, 'waiting-children': 0, paused: 0, completed: 12, failed: 0 },
  })
  counts!: Record<string, number>;

  @ApiPropertyOptional({ type: Number, nullable: true, description: "seconds since the oldest waiting job was added; null when none waits" })
  oldestWaitingAgeSeconds!: number | null;

  @ApiProperty()
  paused!: boolean;
}

export class QueuesResponse {
  @ApiProperty({ type: [QueueStateResponse] })
  queues!: QueueStateResponse[];
}
