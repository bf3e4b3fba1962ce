import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { NamespacePageQuery } from '../../../common/page.query';
import { DeliveryStatus } from '../../webhook-deliveries.repository';

const STATUSES: DeliveryStatus[] = ['pending', 'delivered', 'failed'];

/** Query of `GET /v1/webhook-deliveries`: a page, by status and namespace. */
export class ListDeliveriesQuery extends NamespacePageQuery {
  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES, { message: `status must be one of ${STATUSES.join(', ')}` })
  status?: DeliveryStatus;
}
