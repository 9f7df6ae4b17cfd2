import type { Context } from 'koa';

import type { Clock } from '../domain/types.js';
import type { ClientStore, KnownClient } from './client-store.js';
import { verifyClientSecret, type SecretCheckHooks } from './client-secret.js';
import { OAuthError } from './oauth-error.js';
import { RateLimitedError, rateLimitedOAuthError } from './rate-limited.js';

const AUTH_FAILED = 'client authentication failed';

function decodeFormComponent(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, '%20'));
}

/**
 * Reads client credentials from the Authorization header (client_secret_basic, whose parts are
 * form-encoded, RFC 6749 §2.3.1) or from the body (client_secret_post). Both at once is an
 * invalid_request, as at the token endpoint.
 */
export function readClientCredentials(ctx: Context, body: Record<string, unknown>): { clientId: string; secret: string } {
  const header = ctx.get('authorization');
  const bodyId = body.client_id;
  const bodySecret = body.client_secret;
  if (Array.isArray(bodyId) || Array.isArray(bodySecret)) throw new OAuthError(400, 'invalid_request', 'client credentials must not be repeated');

  if (header !== '') {
    if (bodySecret !== undefined) throw new OAuthError(400, 'invalid_request', 'client authentication must only be provided using one mechanism');
    const [scheme, value, extra] = header.split(' ');
    if (scheme?.toLowerCase() !== 'basic' || value === undefined || extra !== undefined || !/^[A-Za-z0-9+/]+=*$/.test(value)) {
      throw new OAuthError(400, 'invalid_request', 'invalid authorization header value format');
    }
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) throw new OAuthError(400, 'invalid_request', 'invalid authorization header value format');
    let clientId: string;
    let secret: string;
    try {
      clientId = decodeFormComponent(decoded.slice(0, colon));
      secret = decodeFormComponent(decoded.slice(colon + 1));
    } catch {
      throw new OAuthError(400, 'invalid_request', 'client_id and client_secret in the authorization header are not properly encoded');
    }
    if (typeof bodyId === 'string' && bodyId !== clientId) throw new OAuthError(400, 'invalid_request', 'client_id mismatch');
    return { clientId, secret };
  }

  if (typeof bodyId !== 'string' || bodyId === '') throw new OAuthError(400, 'invalid_request', 'no client authentication mechanism provided');
  if (typeof bodySecret !== 'string' || bodySecret === '') throw new OAuthError(401, 'invalid_client', AUTH_FAILED);
  return { clientId: bodyId, secret: bodySecret };
}

async function rejectRateLimited(check: void | Promise<void>): Promise<void> {
  try {
    await check;
  } catch (err) {
    if (err instanceof RateLimitedError) throw rateLimitedOAuthError(err);
    throw err;
  }
}

/** Authenticates a client against the stored hashes; every failure is the same invalid_client. */
export async function authenticateClient(
  ctx: Context,
  body: Record<string, unknown>,
  clients: ClientStore,
  keys: { secretHash: Buffer },
  clock: Clock,
  hooks: SecretCheckHooks,
): Promise<KnownClient> {
  const { clientId, secret } = readClientCredentials(ctx, body);
  await rejectRateLimited(hooks.beforeCheck?.(clientId));

  const client = await clients.findClient(clientId);
  const secretId = verifyClientSecret(keys, client, secret, clock.now());
  if (client === undefined || secretId === undefined) {
    await rejectRateLimited(hooks.onFailure(clientId));
    throw new OAuthError(401, 'invalid_client', AUTH_FAILED);
  }
  hooks.onSecretUsed(secretId);
  return client;
}
