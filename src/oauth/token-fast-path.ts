import { randomFillSync } from 'node:crypto';
import { IncomingMessage, type ServerResponse } from 'node:http';
import { parse as parseForm } from 'node:querystring';

import { CompactSign, importJWK, type CryptoKey } from 'jose';
import { errors } from 'oidc-provider';

import { effectiveRateLimit } from '../domain/app-rate-limits.js';
import type { Metrics } from '../http/metrics.js';
import { requestIdFor, SECURITY_HEADERS } from '../http/middleware.js';
import { RateLimitedError, type RateLimits } from '../http/rate-limits.js';
import { bodyLimitFor } from '../http/request-limits.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../domain/types.js';
import type { ClientStore } from './client-store.js';
import { verifyClientSecret, type SecretCheckHooks } from './client-secret.js';
import type { EpochWatcher } from './freshness.js';
import { StorageUnavailableError } from './storage-unavailable.js';
import { resolveAudience, resolveScope } from './grants/client-credentials.js';
import { checkTenant } from './tenant-check.js';
import { OAUTH_ROUTES } from './provider.js';
import type { LoadedKeys } from './signing-keys.js';

/**
 * Passes a request on to the full Koa and oidc-provider stack, with a refusal already decided;
 * resolves when its handling ends.
 */
export type FullPath = (req: IncomingMessage, res: ServerResponse, refusal?: RateLimitedError) => Promise<void>;

export interface TokenFastPathDeps {
  issuer: string;
  clients: ClientStore;
  secretHashKey: Buffer;
  clock: Clock;
  keys(): LoadedKeys;
  audiences: { default(): string | undefined; has(audience: string): boolean };
  watcher: EpochWatcher;
  limits: RateLimits;
  /** TRUST_PROXY: how many X-Forwarded-For hops to believe, as Koa's maxIpsCount. */
  trustProxy: number;
  hooks: Pick<SecretCheckHooks, 'onSecretUsed'>;
  metrics: Metrics;
  logger: Logger;
}

// Optional whitespace in HTTP is spaces and tabs only (RFC 9110 §5.6.3); \s would also match U+00A0.
const FORM_TYPE = /^application\/x-www-form-urlencoded(?:[ \t]*;[ \t]*charset="?utf-8"?)?$/i;
const CONTENT_LENGTH = /^\d{1,9}$/;
const BASE64 = /^([A-Za-z0-9+/]+)(={0,2})$/;
// RFC 6749 Appendix A: client IDs and secrets are VSCHARs.
const NOT_VSCHAR = /[^\x20-\x7E]/;
// RFC 6749 §3.3: scope tokens separated by single spaces. oidc-provider rejects anything else
// with invalid_scope before the grant runs.
const SCOPE_SYNTAX = /^[\x21\x23-\x5B\x5D-\x7E]+(?: [\x21\x23-\x5B\x5D-\x7E]+)*$/;
// The parameters of a request the fast path can handle alone; anything else takes the full path.
const PARAMETERS = new Set(['grant_type', 'tenant', 'scope', 'resource']);
// Headers that ask for behaviour only the full path has: CORS, DPoP, attestation-based client auth.
const FULL_PATH_HEADERS = ['origin', 'dpop', 'oauth-client-attestation', 'oauth-client-attestation-pop', 'transfer-encoding'];

// The response headers the full path sends with a token: ours (request log, security headers,
// RFC 6749 §5.1 caching) and oidc-provider's CORS defaults, so clients see the same response
// from both paths.
const TOKEN_RESPONSE_HEADERS: Record<string, string> = {
  ...SECURITY_HEADERS,
  Pragma: 'no-cache',
  Vary: 'Origin',
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'WWW-Authenticate',
  // Lower case, as oidc-provider sets it.
  'cache-control': 'no-store',
  'Content-Type': 'application/json; charset=utf-8',
};

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
// oidc-provider's jti: 43 characters drawn uniformly from the 64 base64url characters.
const TOKEN_ID_LENGTH = 43;

/** Random token IDs in oidc-provider's format, cut from a pool so most IDs need no system call. */
class TokenIds {
  readonly #pool = Buffer.alloc(TOKEN_ID_LENGTH * 96);
  #used = this.#pool.length;

  next(): string {
    if (this.#used + TOKEN_ID_LENGTH > this.#pool.length) {
      randomFillSync(this.#pool);
      this.#used = 0;
    }
    let id = '';
    for (let i = this.#used; i < this.#used + TOKEN_ID_LENGTH; i += 1) id += ID_ALPHABET[this.#pool[i]! & 63];
    this.#used += TOKEN_ID_LENGTH;
    return id;
  }
}

interface Credentials {
  clientId: string;
  secret: string;
}

/** Tells whether base64 has whole groups, or a last group of 2 or 3 characters without padding. */
function wellFormedBase64(encoded: string): boolean {
  const match = BASE64.exec(encoded);
  if (!match) return false;
  const [, digits, padding] = match as unknown as [string, string, string];
  const remainder = digits.length % 4;
  if (padding === '') return remainder !== 1;
  return padding.length === 4 - remainder;
}

/**
 * Returns the credentials of a Basic header (RFC 6749 §2.3.1) with the checks and decoding
 * oidc-provider applies, or undefined for anything else, which the full path then handles.
 */
function basicCredentials(header: string | undefined): Credentials | undefined {
  if (header === undefined || !header.startsWith('Basic ')) return undefined;
  const encoded = header.slice('Basic '.length);
  if (!wellFormedBase64(encoded)) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  try {
    const clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, '%20'));
    const secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, '%20'));
    if (secret === '' || NOT_VSCHAR.test(clientId) || NOT_VSCHAR.test(secret)) return undefined;
    return { clientId, secret };
  } catch {
    return undefined;
  }
}

/** Returns the address Koa derives as ctx.ip, so rate limits count the same key on both paths. */
function clientAddress(req: IncomingMessage, trustProxy: number): string {
  const forwarded = trustProxy > 0 ? req.headers['x-forwarded-for'] : undefined;
  if (typeof forwarded === 'string' && forwarded !== '') {
    // Koa splits on commas and trims each part with String.prototype.trim, U+00A0 included.
    const hops = forwarded
      .split(',')
      .map((hop) => hop.trim())
      .slice(-trustProxy);
    if (hops[0]) return hops[0];
  }
  return req.socket.remoteAddress ?? '';
}

/**
 * Rebuilds a request whose body has been read as an unread one with the same headers and
 * socket, so the full path parses it as if it came straight from the connection.
 */
function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(req.socket);
  copy.httpVersionMajor = req.httpVersionMajor;
  copy.httpVersionMinor = req.httpVersionMinor;
  copy.httpVersion = req.httpVersion;
  copy.method = req.method;
  copy.url = req.url;
  copy.headers = req.headers;
  copy.rawHeaders = req.rawHeaders;
  copy.complete = true;
  // Everything is pushed below, so reading must not resume the socket, which belongs to the
  // server's parser.
  copy._read = () => undefined;
  copy.push(body);
  copy.push(null);
  return copy;
}

/**
 * Creates the handler of the common token request, a well-formed client_credentials grant that
 * succeeds, which issues the token without Koa or oidc-provider and passes every other request
 * to the full path.
 *
 * The checks are the full path's own functions (freshness, back-off, client, secret, audience,
 * scope, membership, rate limit), run in an order that spends nothing before the last one. A
 * request that fails any check is replayed to the full path, which runs them all again and
 * writes the error exactly as it always has. Only the rate limit spends something. When it
 * rejects a request, the rejection goes with the replay, so the full path responds 429 without
 * spending a second token. The token is signed with the same key and has the same header and claims as
 * oidc-provider's, and the response has the same headers and body.
 */
export function createTokenFastPath(deps: TokenFastPathDeps): (req: IncomingMessage, res: ServerResponse, full: FullPath) => Promise<void> {
  const tokenBodyLimit = bodyLimitFor(OAUTH_ROUTES.token);
  const tokenIds = new TokenIds();
  const signingKeys = new Map<string, Promise<CryptoKey>>();

  function signingKey(keys: LoadedKeys): Promise<CryptoKey> {
    let key = signingKeys.get(keys.activeKid);
    if (key === undefined) {
      const jwk = keys.privateJwks.find((candidate) => candidate.kid === keys.activeKid);
      if (jwk === undefined) return Promise.reject(new Error('the active signing key is not loaded'));
      key = importJWK(jwk, keys.activeAlg) as Promise<CryptoKey>;
      // Keys change only on rotation, and a retired key's material need not stay in memory.
      signingKeys.clear();
      signingKeys.set(keys.activeKid, key);
      key.catch(() => signingKeys.delete(keys.activeKid));
    }
    return key;
  }

  function eligible(req: IncomingMessage): boolean {
    if (req.method !== 'POST' || req.url !== OAUTH_ROUTES.token) return false;
    const { headers } = req;
    const length = headers['content-length'];
    if (length === undefined || !CONTENT_LENGTH.test(length) || Number(length) > tokenBodyLimit) return false;
    if (headers['content-type'] === undefined || !FORM_TYPE.test(headers['content-type'])) return false;
    if (headers.authorization === undefined) return false;
    return FULL_PATH_HEADERS.every((name) => headers[name] === undefined);
  }

  /** Returns the response body when every check passes; undefined or a refusal otherwise. */
  async function issue(req: IncomingMessage, body: Buffer): Promise<{ json: string; secretId: string } | RateLimitedError | undefined> {
    const form = parseForm(body.toString('utf8'));
    for (const name in form) {
      const value = form[name];
      if (!PARAMETERS.has(name) || typeof value !== 'string' || value === '') return undefined;
    }
    const { tenant, scope: requestedScope, resource } = form as Record<string, string | undefined>;
    if (form.grant_type !== 'client_credentials' || tenant === undefined) return undefined;
    if (requestedScope !== undefined && !SCOPE_SYNTAX.test(requestedScope)) return undefined;
    const credentials = basicCredentials(req.headers.authorization);
    if (credentials === undefined) return undefined;

    try {
      await deps.watcher.check();
    } catch {
      // The full path checks again, then logs the failure and responds 503.
      return undefined;
    }
    await deps.limits.assertClientAuthAllowed(credentials.clientId, clientAddress(req, deps.trustProxy));
    const client = await deps.clients.findClient(credentials.clientId);
    if (client?.kind !== 'connection') return undefined;
    const secretId = verifyClientSecret({ secretHash: deps.secretHashKey }, client, credentials.secret, deps.clock.now());
    if (secretId === undefined) return undefined;

    const audience = resolveAudience(resource, client, { defaultAudience: deps.audiences.default, isKnownAudience: deps.audiences.has });
    const scope = resolveScope(requestedScope, client, audience);
    await checkTenant(tenant, deps.clients, client);

    try {
      await deps.limits.admitTokenRequest(client.clientId, effectiveRateLimit(client.record));
    } catch (err) {
      if (err instanceof RateLimitedError) return err;
      throw err;
    }

    const keys = deps.keys();
    const key = await signingKey(keys);
    // oidc-provider's clock for iat and exp, not the injectable one, as on the full path.
    const now = Math.floor(Date.now() / 1000);
    const ttl = client.record.tokenTtl;
    const claims = {
      tenant,
      jti: tokenIds.next(),
      sub: client.clientId,
      iat: now,
      exp: now + ttl,
      scope,
      client_id: client.clientId,
      iss: deps.issuer,
      aud: audience,
    };
    const token = await new CompactSign(Buffer.from(JSON.stringify(claims))).setProtectedHeader({ alg: keys.activeAlg, typ: 'at+jwt', kid: keys.activeKid }).sign(key);
    return { json: JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: ttl, scope }), secretId };
  }

  function respond(req: IncomingMessage, res: ServerResponse, json: string, started: bigint): void {
    const incoming = req.headers['x-request-id'];
    const requestId = requestIdFor(typeof incoming === 'string' ? incoming : undefined);
    res.statusCode = 200;
    res.setHeader('X-Request-Id', requestId);
    for (const name in TOKEN_RESPONSE_HEADERS) res.setHeader(name, TOKEN_RESPONSE_HEADERS[name]!);
    res.setHeader('Content-Length', Buffer.byteLength(json));
    res.end(json);

    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    deps.metrics.tokenRequests.inc({ outcome: 'success' });
    deps.metrics.tokenLatency.observe(seconds);
    // The full path logs successful token requests at debug level too (see requestLog).
    if (deps.logger.isLevelEnabled('debug')) {
      deps.logger.debug({ request_id: requestId, method: 'POST', path: OAUTH_ROUTES.token, status: 200, outcome: 'success', ms: seconds * 1000, fast_path: true }, 'request');
    }
  }

  /** Resolves when the request has been handled, or when its client went away mid-body. */
  return function handleToken(req, res, full) {
    if (!eligible(req)) return full(req, res);

    const started = process.hrtime.bigint();
    return new Promise<void>((resolve) => {
      const chunks: Buffer[] = [];
      let received = false;
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.once('error', () => undefined);
      req.once('close', () => {
        if (!received) resolve();
      });
      req.once('end', () => {
        received = true;
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        const handled = issue(req, body).then(
          (outcome) => {
            if (outcome === undefined || outcome instanceof RateLimitedError) return full(replay(req, body), res, outcome);
            respond(req, res, outcome.json, started);
            deps.hooks.onSecretUsed(outcome.secretId);
            return undefined;
          },
          (err: unknown) => {
            // Storage, Redis and back-off errors reach the full path too, which logs and reports them.
            // OAuth errors (an unconsented scope, an unknown resource) are the client's; the full path reports them.
            if (!(err instanceof RateLimitedError) && !(err instanceof StorageUnavailableError) && !(err instanceof errors.OIDCProviderError)) {
              deps.logger.warn({ err }, 'token fast path failed; the full path handles the request');
            }
            return full(replay(req, body), res);
          },
        );
        resolve(handled);
      });
    });
  };
}
