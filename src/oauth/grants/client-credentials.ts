import { errors, type KoaContextWithOIDC, type Provider } from 'oidc-provider';

import type { SigningAlg } from '../../config.js';
import type { ClientStore, ConnectionClient } from '../client-store.js';
import { toProviderError } from '../storage-unavailable.js';
import { toRateLimitedProviderError } from '../rate-limited.js';
import { checkTenant } from '../tenant-check.js';

export const grantType = 'client_credentials';

// `tenant` is ours; `scope` and `resource` are RFC 6749 §4.4.2 and RFC 8707. None may repeat.
export const parameters = ['scope', 'resource', 'tenant'] as const;

export interface GrantSettings {
  /** Audience used when the request has no `resource` (the default API). */
  defaultAudience(): string | undefined;
  /** Whether an audience is a registered API. */
  isKnownAudience(audience: string): boolean;
  signingKey(): { alg: SigningAlg; kid: string };
  /** Spends one of the client's token requests; rejects with RateLimitedError when none is left. */
  admitTokenRequest?(client: ConnectionClient): Promise<void>;
}

// Carries the membership-checked tenant from the handler to extraTokenClaims, keyed by the
// token object, so the claim can never come from anywhere else.
export const checkedTenants = new WeakMap<object, string>();

function requestedScopes(raw: unknown): string[] {
  if (typeof raw !== 'string') return [];
  return [...new Set(raw.split(' ').filter(Boolean))];
}

/**
 * Grants the client_credentials request of a connection client, in the order a reader would
 * check it: who the client is, which API, which scopes, which tenant; then the token.
 */
export function createClientCredentialsHandler(provider: Provider, clients: ClientStore, settings: GrantSettings) {
  return async function clientCredentialsHandler(ctx: KoaContextWithOIDC): Promise<void> {
    const client = await clients.findClient(ctx.oidc.client!.clientId).catch((err: unknown) => Promise.reject(toProviderError(err)));
    if (client?.kind !== 'connection') throw new errors.UnauthorizedClient('this client may not use the client_credentials grant');
    await Promise.resolve(settings.admitTokenRequest?.(client)).catch((err: unknown) => Promise.reject(toRateLimitedProviderError(err)));

    const params = ctx.oidc.params as Record<string, unknown> | undefined;
    const audience = resolveAudience(params?.resource, client, settings);
    const scope = resolveScope(params?.scope, client, audience);
    const tenant = await checkTenant(params?.tenant, clients, client).catch((err: unknown) => Promise.reject(toProviderError(err)));

    const token = new provider.ClientCredentials({ client: ctx.oidc.client!, scope, expiresIn: client.record.tokenTtl });
    const { alg, kid } = settings.signingKey();
    token.resourceServer = new provider.ResourceServer(audience, {
      audience,
      scope,
      accessTokenTTL: client.record.tokenTtl,
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg, kid } },
    });
    checkedTenants.set(token, tenant);

    ctx.oidc.entity('ClientCredentials', token);
    const value = await token.save();

    ctx.body = {
      access_token: value,
      token_type: 'Bearer',
      expires_in: token.expiration,
      scope,
    };
  };
}

/** Returns the audience of the token: the requested `resource`, or the default API. */
export function resolveAudience(requested: unknown, client: ConnectionClient, settings: Pick<GrantSettings, 'defaultAudience' | 'isKnownAudience'>): string {
  if (requested !== undefined && typeof requested !== 'string') throw new errors.InvalidTarget('only one resource may be requested');

  const audience = requested ?? settings.defaultAudience();
  if (audience === undefined) throw new errors.InvalidTarget('no default API is registered; send the resource parameter');
  if (!settings.isKnownAudience(audience)) throw new errors.InvalidTarget('resource is not a registered API');
  if (!client.scopesByAudience.has(audience)) throw new errors.InvalidTarget('the client has no consented access to this resource');
  return audience;
}

/** Absent or empty `scope` means every consented scope of the API; a repeated value counts once. */
export function resolveScope(raw: unknown, client: ConnectionClient, audience: string): string {
  const consented = client.scopesByAudience.get(audience) ?? [];
  const requested = requestedScopes(raw);
  if (requested.length === 0) return consented.join(' ');

  const allowed = new Set(consented);
  const refused = requested.filter((scope) => !allowed.has(scope));
  if (refused.length > 0) throw new errors.InvalidScope('requested scope is not consented for this client', refused.join(' '));
  return requested.join(' ');
}
