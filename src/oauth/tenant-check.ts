import { errors } from 'oidc-provider';

import { TENANT_ID_PATTERN } from '../domain/validation.js';
import type { ClientStore, ConnectionClient } from './client-store.js';

// One description for "no such tenant" and "not in your group", so a client learns nothing
// about tenants outside its group (RFC 8707 §2: invalid_target).
export const TENANT_REFUSED = 'the tenant is not accessible to this client';

/**
 * Reads the `tenant` parameter (required, exactly once; repeats are rejected earlier by
 * oidc-provider's duplicate check) and returns it only when the client's group contains it.
 * The returned value is the one the membership check accepted: the `tenant` claim is set from it.
 */
export async function checkTenant(value: unknown, clients: ClientStore, client: ConnectionClient): Promise<string> {
  if (value === undefined) throw new errors.InvalidRequest("missing required parameter 'tenant'");
  if (typeof value !== 'string') throw new errors.InvalidRequest("'tenant' parameter must be provided exactly once");
  if (!TENANT_ID_PATTERN.test(value)) {
    throw new errors.InvalidRequest("'tenant' must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'");
  }

  if (!(await clients.isMember(client.record.groupId, value))) throw new errors.InvalidTarget(TENANT_REFUSED);
  return value;
}
