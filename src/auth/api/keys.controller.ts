import { Body, Controller, Delete, Get, NotFoundException, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.decorator';
import { Access, CurrentPrincipal } from '../access.decorators';
import { Principal } from '../principal';
import { CreateKeyDto } from './dto/create-key.dto';
import { CreatedKeyResponse, KeyListResponse, KeyResponse } from './dto/key.responses';
import { KeyView, KeysService } from './keys.service';

const uuidPipe = new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException('API key not found (ids are UUIDs)') });

/** `/v1/keys`: API keys, for admins. */
@ApiTags('keys')
@ApiErrors([401, 403])
@Controller('v1/keys')
@Access({ scope: 'admin', budget: 'none' })
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  /** 201 with `key`, the secret, shown this once. */
  @Post()
  @ApiOperation({ summary: 'Create an API key', description: 'The secret is in this answer only; it is stored as a hash.' })
  @ApiCreatedResponse({ type: CreatedKeyResponse, description: 'the key, with its secret (shown once)' })
  @ApiErrors([400])
  create(@Body() dto: CreateKeyDto, @CurrentPrincipal() by: Principal): Promise<KeyView & { key: string }> {
    return this.keys.create(dto, by.id);
  }

  @Get()
  @ApiOperation({ summary: 'List API keys', description: 'Never their secrets.' })
  @ApiOkResponse({ type: KeyListResponse })
  list(): Promise<{ items: KeyView[] }> {
    return this.keys.list();
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke an API key', description: 'Effective on every replica within 2 s.' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: KeyResponse, description: 'the revoked key' })
  @ApiErrors([404])
  revoke(@Param('id', uuidPipe) id: string, @CurrentPrincipal() by: Principal): Promise<KeyView> {
    return this.keys.revoke(id, by.id);
  }
}
