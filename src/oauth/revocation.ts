import type { Context } from 'koa';

import { readForm, single } from '../http/form-body.js';
import type { Clock } from '../domain/types.js';
import type { ClientStore } from './client-store.js';
import { authenticateClient } from './client-auth.js';
import type { SecretCheckHooks } from './client-secret.js';
import { OAUTH_FORM_LIMIT } from './introspection.js';
import { OAuthError } from './oauth-error.js';
import type { RevocationList } from './revocation-list.js';
import type { TokenVerifier } from './token-verifier.js';

/**
 * RFC 7009 revocation of tenantgate's JWTs by jti. Unknown, expired and foreign tokens also
 * get 200 (§2.2), so the response reveals nothing; only the client that received
 * a token can revoke it.
 */
export function createRevocationHandler(deps: {
  clients: ClientStore;
  verifier: TokenVerifier;
  revocations: RevocationList;
  secretHashKey: Buffer;
  clock: Clock;
  hooks: SecretCheckHooks;
  onRevoked(clientId: string, jti: string): void;
}) {
  return async function revoke(ctx: Context): Promise<void> {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    const form = await readForm(ctx, OAUTH_FORM_LIMIT);
    const caller = await authenticateClient(ctx, form, deps.clients, { secretHash: deps.secretHashKey }, deps.clock, deps.hooks);
    const token = single(form, 'token');
    single(form, 'token_type_hint');
    if (token === undefined) throw new OAuthError(400, 'invalid_request', "missing required parameter 'token'");

    const claims = await deps.verifier.verify(token);
    if (claims && caller.kind === 'connection' && claims.client_id === caller.clientId) {
      await deps.revocations.revoke({ jti: claims.jti, clientId: claims.client_id, expiresAt: claims.exp * 1000 });
      deps.onRevoked(claims.client_id, claims.jti);
    }
    ctx.status = 200;
    ctx.body = '';
  };
}
