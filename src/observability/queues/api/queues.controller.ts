import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../../common/api-errors.decorator';
import { QueueState, QueueStates } from '../queue-states';
import { QueuesResponse } from './queue.responses';

/** `GET /v1/queues`: each queue's jobs by state, its oldest waiting job's age, and whether it is paused. */
@ApiTags('operations')
@Controller('v1/queues')
export class QueuesController {
  constructor(private readonly states: QueueStates) {}

  @Get()
  @ApiOperation({ summary: 'Queue states', description: "Each queue's jobs by state, its oldest waiting job's age and whether it is paused (admin)." })
  @ApiOkResponse({ type: QueuesResponse })
  @ApiErrors([503])
  async list(): Promise<{ queues: QueueState[] }> {
    try {
      return { queues: await this.states.read() };
    } catch (err) {
      throw new ServiceUnavailableException(`the queues cannot be read now (Redis): ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
