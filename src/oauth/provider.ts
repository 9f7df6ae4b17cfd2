import { randomBytes } from 'node:crypto';

import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

import type { ClientStore, ConnectionClient } from './client-store.js';
import { createAdapterFactory } from './adapter.js';
import { installClientModelCache } from './client-model-cache.js';
import { installSecretCheck, type SecretCheckHooks } from './client-secret.js';
import * as clientCredentials from './grants/client-credentials.js';
import { setRetryAfter } from './rate-limited.js';
import type { LoadedKeys } from './signing-keys.js';
import type { Clock } from '../domain/types.js';
import type { KeyValueStore } from '../shared-state/kv-store.js';
import { RETRY_AFTER_SECONDS } from './storage-unavailable.js';

export const OAUTH_ROUTES = {
  token: '/token',
  jwks: '/jwks',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
} as const;

export interface ProviderOptions {
  issuer: string;
  keys: LoadedKeys;
  clients: ClientStore;
  secretHashKey: Buffer;
  clock: Clock;
  hooks: SecretCheckHooks;
  audiences: { default(): string | undefined; has(audience: string): boolean };
  trustProxy: boolean;
  /** Spends one token request of an authenticated client (the per-client rate limit). */
  admitTokenRequest?(client: ConnectionClient): Promise<void>;
  /** The store of oidc-provider's models (Redis); in process when absent. */
  ephemeralStore?: KeyValueStore;
}

/**
 * Builds an oidc-provider instance for the current signing keys. The provider reads its JWKS
 * once, at construction; a key change builds a new provider (see provider-holder.ts).
 */
export function buildProvider(options: ProviderOptions): Provider {
  const configuration: Configuration = {
    adapter: createAdapterFactory(options.ephemeralStore),
    clients: [],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    clientDefaults: {
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: options.keys.activeAlg,
    },
    jwks: { keys: options.keys.privateJwks as NonNullable<Configuration['jwks']>['keys'] },
    routes: OAUTH_ROUTES,
    responseTypes: ['none'],
    // Confidential clients call from servers; no browser origin should hold a client secret.
    clientBasedCORS: () => false,
    scopes: [],
    claims: {},
    // Interaction cookies are unused (no authorization endpoint is routed), but oidc-provider
    // signs them when present; random per-process keys keep it quiet and harmless.
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // Both endpoints are answered by tenantgate's own handlers for its JWTs; enabling them
      // here lists them in the discovery document.
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: false },
    },
    extraTokenClaims(_ctx: KoaContextWithOIDC, token) {
      const tenant = clientCredentials.checkedTenants.get(token);
      return tenant === undefined ? undefined : { tenant };
    },
    ttl: {
      ClientCredentials(_ctx: KoaContextWithOIDC, token) {
        return token.resourceServer?.accessTokenTTL ?? 900;
      },
    },
    // RFC 6749 errors are JSON on every endpoint we route; there is no HTML error page.
    async renderError(ctx: KoaContextWithOIDC, out) {
      ctx.type = 'application/json';
      ctx.body = out;
    },
  };

  const provider = new Provider(options.issuer, configuration);
  provider.proxy = options.trustProxy;
  // RFC 9110 §10.2.3: a 503 says when to retry. oidc-provider's error handler sets the status
  // inside the route, so this middleware, which wraps the routes, sees it afterwards.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.status === 503) ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
  });

  // A rate-limited error is thrown where no Koa context is at hand (compareClientSecret), so its
  // Retry-After is set here, after oidc-provider has chosen the response and before it is sent.
  provider.on('grant.error', setRetryAfter);

  installClientModelCache(provider);
  installSecretCheck(provider, options.clients, { secretHash: options.secretHashKey }, options.clock, options.hooks);
  provider.registerGrantType(
    clientCredentials.grantType,
    clientCredentials.createClientCredentialsHandler(provider, options.clients, {
      defaultAudience: () => options.audiences.default(),
      isKnownAudience: (audience) => options.audiences.has(audience),
      signingKey: () => ({ alg: options.keys.activeAlg, kid: options.keys.activeKid }),
      admitTokenRequest: options.admitTokenRequest,
    }),
    [...clientCredentials.parameters],
  );
  return provider;
}
