import { ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DEFAULT_NAMESPACE } from '../common/namespace';
import { RequestWithPrincipal, RouteAccess } from './access.decorators';
import { Principal, hasScope, holdsNamespace } from './principal';
import { ALL_NAMESPACES } from './scopes';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Keeps a key inside its namespaces before a handler runs. */
@Injectable()
export class NamespaceGate {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async check(access: RouteAccess, req: RequestWithPrincipal, p: Principal): Promise<void> {
    if (access.namespace === undefined) return;
    const named = await this.namespaceOf(access, req);
    if (named === undefined) {
      // Nothing named: the request spans every namespace the key holds.
      const spansAll = p.namespaces.includes(ALL_NAMESPACES);
      if (spansAll && access.everyNamespaceScope && !hasScope(p, access.everyNamespaceScope)) {
        throw new ForbiddenException(`every namespace at once needs the "${access.everyNamespaceScope}" scope: name a namespace`);
      }
      return;
    }
    if (holdsNamespace(p, named.namespace)) return;
    if (access.deniedStatus === 403) throw new ForbiddenException(`this API key does not hold namespace "${named.namespace}"`);
    throw new NotFoundException(named.notFound);
  }

  /** The namespace the request names, if any; malformed values are left for validation to refuse. */
  private async namespaceOf(access: RouteAccess, req: RequestWithPrincipal): Promise<{ namespace: string; notFound: string } | undefined> {
    switch (access.namespace) {
      case 'body':
      case 'body-filter': {
        // A form's fields are read by its route after the guard, which checks the namespace there.
        if (req.is('multipart/form-data')) return undefined;
        const body: unknown = req.body;
        const ns = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).namespace : undefined;
        if (ns === undefined && access.namespace === 'body-filter') return undefined;
        if (ns === undefined) return { namespace: DEFAULT_NAMESPACE, notFound: `namespace ${DEFAULT_NAMESPACE} not found` };
        return typeof ns === 'string' ? { namespace: ns, notFound: `namespace ${ns} not found` } : undefined;
      }
      case 'query': {
        const ns: unknown = req.query.namespace;
        return typeof ns === 'string' ? { namespace: ns, notFound: `namespace ${ns} not found` } : undefined;
      }
      case 'param': {
        const ns = req.params.namespace;
        return typeof ns === 'string' ? { namespace: ns, notFound: `namespace ${ns} not found` } : undefined;
      }
      case 'document': {
        const id = req.params.id;
        if (typeof id !== 'string' || !UUID.test(id)) return undefined;
        const rows: Array<{ namespace: string }> = await this.db.query('SELECT namespace FROM documents WHERE id = $1', [id]);
        // Same words as an unknown id, so a foreign document cannot be told from a missing one.
        const notFound = (access.notFound ?? 'document :id not found').replace(':id', id);
        return rows.length === 0 ? undefined : { namespace: rows[0].namespace, notFound };
      }
      default:
        return undefined;
    }
  }
}
