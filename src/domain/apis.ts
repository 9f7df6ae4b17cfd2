import { randomUUID } from 'node:crypto';

import { countApis, findApiByAudience, insertApi, listApis } from '../storage/apis.js';
import { change, type DomainContext } from './context.js';
import { conflict, invalid } from './errors.js';
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

/** Registers a resource server. The first API becomes the default audience of tokens. */
export async function createApi(ctx: DomainContext, actor: Actor, input: CreateApiInput): Promise<Api> {
  const audience = requireAudience(input.audience);
  const name = requireName('api', input.name);
  if (input.scopes.length === 0) throw invalid('api.no_scopes', 'an API needs at least one scope');
  const scopes = input.scopes.map((s) => ({ scope: requireScope(s.scope), description: s.description.trim() || s.scope }));
  if (new Set(scopes.map((s) => s.scope)).size !== scopes.length) throw invalid('api.duplicate_scope', 'each scope may be listed only once');

  return change(ctx, actor, async ({ trx, now, audit }) => {
    if (await findApiByAudience(trx, audience)) throw conflict('api.audience_taken', `an API with audience ${audience} already exists`);
    const id = randomUUID();
    const isDefault = (await countApis(trx)) === 0;
    await insertApi(trx, { id, audience, name, isDefault, scopes, now });
    audit({ networkId: null, action: 'api.created', targetType: 'api', targetId: id, details: { audience, scopes: scopes.map((s) => s.scope) } });
    return { id, audience, name, isDefault, scopes };
  });
}

export { listApis, findApiByAudience };
