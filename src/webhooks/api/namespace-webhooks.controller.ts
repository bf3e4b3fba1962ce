import { BadRequestException, Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Put, Res } from '@nestjs/common';
import type { Response } from 'express';
import { NAMESPACE_PATTERN, NAMESPACE_RULE } from '../../common/namespace';
import { NamespaceWebhooksRepository } from '../namespace-webhooks.repository';
import { WEBHOOK_EVENT_TYPES } from '../webhook-event-types';
import { PutNamespaceWebhookDto } from './dto/put-namespace-webhook.dto';
import { NamespaceWebhookView, toNamespaceWebhookView } from './webhook.views';
import { WebhookUrlPolicy } from './webhook-url.policy';

function checkNamespace(namespace: string): string {
  if (!NAMESPACE_PATTERN.test(namespace)) throw new BadRequestException(`namespace ${NAMESPACE_RULE}`);
  return namespace;
}

/** A namespace's webhook: called for each of its documents that becomes ready or fails. */
@Controller('v1/namespaces/:namespace/webhook')
export class NamespaceWebhooksController {
  constructor(
    private readonly webhooks: NamespaceWebhooksRepository,
    private readonly policy: WebhookUrlPolicy,
  ) {}

  /** Registers or replaces the webhook: 201 when new, 200 when replaced. */
  @Put()
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
  async get(@Param('namespace') namespace: string): Promise<NamespaceWebhookView> {
    const webhook = await this.webhooks.get(checkNamespace(namespace));
    if (!webhook) throw new NotFoundException(`namespace ${namespace} has no webhook`);
    return toNamespaceWebhookView(webhook);
  }

  @Delete()
  @HttpCode(204)
  async delete(@Param('namespace') namespace: string): Promise<void> {
    if (!(await this.webhooks.delete(checkNamespace(namespace)))) throw new NotFoundException(`namespace ${namespace} has no webhook`);
  }
}
