import type { Context } from 'koa';

import { readForm, single } from '../http/form-body.js';
import type { ClientStore, KnownClient } from './client-store.js';
import { authenticateClient } from './client-auth.js';
import type { SecretCheckHooks } from './client-secret.js';
import { OAuthError } from './oauth-error.js';
import type { RevocationList } from './revocation-list.js';
import type { AccessTokenClaims, TokenVerifier } from './token-verifier.js';
import type { Clock } from '../domain/types.js';

// Introspection and revocation requests carry one token and a few short parameters.
export const OAUTH_FORM_LIMIT = 16 * 1024;

export interface LiveStateDeps {
  clients: ClientStore;
  verifier: TokenVerifier;
  revocations: RevocationList;
}

/**
 * Decides from live state whether a token is active (RFC 7662 §2.2): it verifies, has not
 * expired, was not revoked, its connection is active, and its tenant is still in the group.
 */
export async function activeClaims(deps: LiveStateDeps, token: string): Promise<AccessTokenClaims | undefined> {
  const claims = await deps.verifier.verify(token);
  if (!claims) return undefined;
  if (await deps.revocations.isRevoked(claims.jti, claims.exp * 1000)) return undefined;

  const client = await deps.clients.findClient(claims.client_id);
  if (client?.kind !== 'connection' || client.record.status !== 'active') return undefined;
  if (!(await deps.clients.isMember(client.record.groupId, claims.tenant))) return undefined;
  return claims;
}

/** An API's introspection client sees tokens for its audience; an app only its own tokens. */
function mayIntrospect(caller: KnownClient, claims: AccessTokenClaims): boolean {
  if (caller.kind === 'connection') return caller.clientId === claims.client_id;
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  return audiences.includes(caller.audience);
}

export function createIntrospectionHandler(
  deps: LiveStateDeps & { secretHashKey: Buffer; clock: Clock; hooks: SecretCheckHooks },
) {
  return async function introspect(ctx: Context): Promise<void> {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    const form = await readForm(ctx, OAUTH_FORM_LIMIT);
    const caller = await authenticateClient(ctx, form, deps.clients, { secretHash: deps.secretHashKey }, deps.clock, deps.hooks);
    const token = single(form, 'token');
    single(form, 'token_type_hint');
    if (token === undefined) throw new OAuthError(400, 'invalid_request', "missing required parameter 'token'");

    const claims = await activeClaims(deps, token);
    if (!claims || !mayIntrospect(caller, claims)) {
      ctx.body = { active: false };
      return;
    }

    ctx.body = {
      active: true,
      iss: claims.iss,
      sub: claims.sub,
      aud: claims.aud,
      client_id: claims.client_id,
      tenant: claims.tenant,
      scope: claims.scope,
      jti: claims.jti,
      iat: claims.iat,
      exp: claims.exp,
      token_type: 'Bearer',
    };
  };
}
