import { Body, Controller, Delete, Get, NotFoundException, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { Access, CurrentPrincipal } from '../access.decorators';
import { Principal } from '../principal';
import { CreateKeyDto } from './dto/create-key.dto';
import { KeyView, KeysService } from './keys.service';

const uuidPipe = new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('API key not found (ids are UUIDs)') });

/** `/v1/keys`: API keys, for admins. */
@Controller('v1/keys')
@Access({ scope: 'admin', budget: 'none' })
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  /** 201 with `key`, the secret, shown this once. */
  @Post()
  create(@Body() dto: CreateKeyDto, @CurrentPrincipal() by: Principal): Promise<KeyView & { key: string }> {
    return this.keys.create(dto, by.id);
  }

  @Get()
  list(): Promise<{ items: KeyView[] }> {
    return this.keys.list();
  }

  @Delete(':id')
  revoke(@Param('id', uuidPipe) id: string, @CurrentPrincipal() by: Principal): Promise<KeyView> {
    return this.keys.revoke(id, by.id);
  }
}
