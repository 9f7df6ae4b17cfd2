import type { Api } from '../domain/types.js';
import { OAUTH_ROUTES } from './provider.js';

const AUTH_METHODS = ['client_secret_basic', 'client_secret_post'];

/**
 * The RFC 8414 authorization server metadata. The same document is served at the OpenID
 * configuration path, because client libraries look for jwks_uri there; tenantgate issues no
 * ID tokens and has no authorization endpoint, so neither document lists one.
 */
export function discoveryDocument(issuer: string, signingAlgs: readonly string[], apis: readonly Api[]): Record<string, unknown> {
  return {
    issuer,
    token_endpoint: issuer + OAUTH_ROUTES.token,
    jwks_uri: issuer + OAUTH_ROUTES.jwks,
    introspection_endpoint: issuer + OAUTH_ROUTES.introspection,
    revocation_endpoint: issuer + OAUTH_ROUTES.revocation,
    grant_types_supported: ['client_credentials'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    introspection_endpoint_auth_methods_supported: AUTH_METHODS,
    revocation_endpoint_auth_methods_supported: AUTH_METHODS,
    scopes_supported: [...new Set(apis.flatMap((api) => api.scopes.map((s) => s.scope)))].sort(),
    access_token_signing_alg_values_supported: [...new Set(signingAlgs)],
  };
}
