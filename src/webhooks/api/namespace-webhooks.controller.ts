import { BadRequestException, Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Put, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Access } from '../../auth/access.decorators';
import { ApiErrors } from '../../common/api-errors.decorator';
import { NAMESPACE_PATTERN, NAMESPACE_RULE } from '../../common/namespace';
import { NamespaceWebhooksRepository } from '../namespace-webhooks.repository';
import { WEBHOOK_EVENT_TYPES } from '../webhook-event-types';
import { PutNamespaceWebhookDto } from './dto/put-namespace-webhook.dto';
import { NamespaceWebhookResponse } from './dto/webhook.responses';
import { NamespaceWebhookView, toNamespaceWebhookView } from './webhook.views';
import { WebhookUrlPolicy } from './webhook-url.policy';

function checkNamespace(namespace: string): string {
  if (!NAMESPACE_PATTERN.test(namespace)) throw new BadRequestException(`namespace ${NAMESPACE_RULE}`);
  return namespace;
}

/** A namespace's webhook: called for each of its documents that becomes ready or fails. */
@ApiTags('webhooks')
@ApiParam({ name: 'namespace', example: 'demo' })
@Controller('v1/namespaces/:namespace/webhook')
export class NamespaceWebhooksController {
  constructor(
    private readonly webhooks: NamespaceWebhooksRepository,
    private readonly policy: WebhookUrlPolicy,
  ) {}

  /** Registers or replaces the webhook: 201 when new, 200 when replaced. */
  @Put()
  @ApiOperation({ summary: "Register or replace a namespace's webhook", description: 'Called, signed, when a document of the namespace becomes ready or fails.' })
  @ApiCreatedResponse({ type: NamespaceWebhookResponse, description: 'registered' })
  @ApiOkResponse({ type: NamespaceWebhookResponse, description: 'replaced' })
  @ApiErrors([400, 404])
  @Access({ scope: 'documents:write', namespace: 'param' })
  async put(
    @Param('namespace') namespace: string,
    @Body() dto: PutNamespaceWebhookDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<NamespaceWebhookView> {
    const url = await this.policy.check('url', dto.url);
    const { webhook, created } = await this.webhooks.put(checkNamespace(namespace), url, dto.events ?? [...WEBHOOK_EVENT_TYPES]);
    res.status(created ? 201 : 200);
    return toNamespaceWebhookView(webhook);
  }

  @Get()
  @ApiOperation({ summary: "A namespace's webhook" })
  @ApiOkResponse({ type: NamespaceWebhookResponse })
  @ApiErrors([400, 404])
  @Access({ scope: 'documents:read', namespace: 'param' })
  async get(@Param('namespace') namespace: string): Promise<NamespaceWebhookView> {
    const webhook = await this.webhooks.get(checkNamespace(namespace));
    if (!webhook) throw new NotFoundException(`namespace ${namespace} has no webhook`);
    return toNamespaceWebhookView(webhook);
  }

  @Delete()
  @ApiOperation({ summary: "Remove a namespace's webhook" })
  @ApiNoContentResponse({ description: 'removed' })
  @ApiErrors([400, 404])
  @Access({ scope: 'documents:write', namespace: 'param' })
  @HttpCode(204)
  async delete(@Param('namespace') namespace: string): Promise<void> {
    if (!(await this.webhooks.delete(checkNamespace(namespace)))) throw new NotFoundException(`namespace ${namespace} has no webhook`);
  }
}
