import { Module } from '@nestjs/common';
import { RedisStatusEvents } from './redis-status-events';
import { StatusEventLog } from './status-event-log';
import { STATUS_EVENTS } from './status-events';

/** Status events in Redis, for any process that publishes or reads them. */
@Module({
  providers: [StatusEventLog, RedisStatusEvents, { provide: STATUS_EVENTS, useExisting: RedisStatusEvents }],
  exports: [StatusEventLog, RedisStatusEvents, STATUS_EVENTS],
})
export class EventsModule {}
