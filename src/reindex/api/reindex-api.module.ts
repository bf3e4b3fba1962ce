import { Module } from '@nestjs/common';
import { VectorStoreModule } from '../../vector-store/vector-store.module';
import { ReindexController } from './reindex.controller';
import { ReindexService } from './reindex.service';

/** The re-embed API (`/v1/reindex`). */
@Module({
  imports: [VectorStoreModule],
  controllers: [ReindexController],
  providers: [ReindexService],
})
export class ReindexApiModule {}
