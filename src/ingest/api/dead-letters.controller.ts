import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { DeadLettersService } from './dead-letters.service';
import { ListDeadLettersQuery, RetryDeadLettersDto } from './dto/dead-letters.query';

const uuidPipe = new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('dead letter not found (ids are document UUIDs)') });

/** Documents that failed for good: inspect, re-queue, discard. A dead letter's id is its document's id. */
@Controller('v1/dead-letters')
export class DeadLettersController {
  constructor(private readonly deadLetters: DeadLettersService) {}

  @Get()
  list(@Query() query: ListDeadLettersQuery) {
    return this.deadLetters.list(query);
  }

  @Post('retry')
  @HttpCode(202)
  retryMany(@Body() dto: RetryDeadLettersDto) {
    return this.deadLetters.retryMany(dto);
  }

  @Post(':id/retry')
  @HttpCode(202)
  retry(@Param('id', uuidPipe) id: string) {
    return this.deadLetters.retry(id);
  }

  @Delete(':id')
  @HttpCode(204)
  async discard(@Param('id', uuidPipe) id: string): Promise<void> {
    await this.deadLetters.discard(id);
  }
}
