import { randomUUID } from 'node:crypto';

import { generateClientId, generateClientSecret, hashClientSecret } from '../crypto/client-secret.js';
import { countApis, findApiByAudience, insertApi, listApis } from '../storage/apis.js';
import { insertIntrospectionClient, revokeIntrospectionClients } from '../storage/introspection-clients.js';
import { change, type ChangeScope, type DomainContext } from './context.js';
import { assertThat, conflict, invalid, notFound } from './errors.js';
import type { Actor, Api } from './types.js';
import { requireName, requireScope } from './validation.js';

export interface CreateApiInput {
  audience: string;
  name: string;
  scopes: { scope: string; description: string }[];
}

function requireAudience(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('api.invalid_audience', `audience ${JSON.stringify(value)} must be an absolute URI such as https://api.example.com`);
  }
  if (url.hash !== '') throw invalid('api.invalid_audience', 'audience must not contain a fragment (RFC 8707 §2)');
  if (value.length > 500) throw invalid('api.invalid_audience', 'audience must be at most 500 characters');
  return value;
}

/** Credentials a resource server uses at the introspection endpoint; the secret is shown once. */
export interface IntrospectionCredentials {
  clientId: string;
  clientSecret: string;
}

async function issueIntrospectionClient(ctx: DomainContext, scope: ChangeScope, apiId: string): Promise<IntrospectionCredentials> {
  const clientId = generateClientId();
  const clientSecret = generateClientSecret();
  await insertIntrospectionClient(scope.trx, { clientId, apiId, secretHash: hashClientSecret(ctx.keys.secretHash, clientSecret), now: scope.now });
  return { clientId, clientSecret };
}

/**
 * Registers a resource server with its introspection client. The first API becomes the default
 * audience of tokens.
 */
export async function createApi(ctx: DomainContext, actor: Actor, input: CreateApiInput): Promise<{ api: Api; introspection: IntrospectionCredentials }> {
  const audience = requireAudience(input.audience);
  const name = requireName('api', input.name);
  if (input.scopes.length === 0) throw invalid('api.no_scopes', 'an API needs at least one scope');
  const scopes = input.scopes.map((s) => ({ scope: requireScope(s.scope), description: s.description.trim() || s.scope }));
  if (new Set(scopes.map((s) => s.scope)).size !== scopes.length) throw invalid('api.duplicate_scope', 'each scope may be listed only once');

  return change(ctx, actor, async (scope) => {
    const { trx, now, audit } = scope;
    if (await findApiByAudience(trx, audience)) throw conflict('api.audience_taken', `an API with audience ${audience} already exists`);
    const id = randomUUID();
    const isDefault = (await countApis(trx)) === 0;
    await insertApi(trx, { id, audience, name, isDefault, scopes, now });
    const introspection = await issueIntrospectionClient(ctx, scope, id);
    audit({
      networkId: null,
      action: 'api.created',
      targetType: 'api',
      targetId: id,
      details: { audience, scopes: scopes.map((s) => s.scope), introspection_client_id: introspection.clientId },
    });
    return { api: { id, audience, name, isDefault, scopes }, introspection };
  });
}

/** Replaces an API's introspection client; the old one stops working at once. */
export async function rotateIntrospectionClient(ctx: DomainContext, actor: Actor, apiId: string): Promise<IntrospectionCredentials> {
  return change(ctx, actor, async (scope) => {
    const api = (await listApis(scope.trx)).find((candidate) => candidate.id === apiId);
    assertThat(api, notFound('api', apiId));
    const revoked = await revokeIntrospectionClients(scope.trx, apiId, scope.now);
    const introspection = await issueIntrospectionClient(ctx, scope, apiId);
    scope.audit({
      networkId: null,
      action: 'api.introspection_client_rotated',
      targetType: 'api',
      targetId: apiId,
      details: { introspection_client_id: introspection.clientId, revoked_client_ids: revoked },
    });
    return introspection;
  });
}

export { listApis, findApiByAudience };
