import type { ServerOptions } from 'node:http';

import type { Context, Next } from 'koa';

/** Limits on one HTTP request, applied before any handler reads it. */
export interface RequestLimits {
  /** Maximum bytes of the request line and all headers. Node responds 431 above it. */
  maxHeaderBytes: number;
  /** Maximum characters of the request target (path and query). A longer one gets 414. */
  maxUrlLength: number;
  /** Time allowed to receive all headers, in ms. A slower sender gets 408. */
  headersTimeoutMs: number;
  /** Time allowed to receive the whole request including its body, in ms. A slower sender gets 408. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open, in ms. */
  keepAliveTimeoutMs: number;
  /** Interval of Node's checks of the two timeouts above, in ms. A timeout fires up to this much late. */
  timeoutCheckIntervalMs: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  // Node's own default, stated here so it is a decision: a Basic header and a few cookies fit.
  maxHeaderBytes: 16 * 1024,
  // No route takes long query strings; 4 KiB leaves room for a paged page's filters.
  maxUrlLength: 4096,
  // A legitimate client sends a token request in well under a second. Ten seconds tolerates a
  // slow mobile link, and a slow sender keeps a connection open for at most this long.
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  // Node's default is 30 s, which would let a slow sender keep a connection three times longer.
  timeoutCheckIntervalMs: 1_000,
};

// Body caps by path prefix, checked against Content-Length before anything reads the body. The
// token endpoint takes a grant type, a tenant, a scope list and a resource; introspection and
// revocation one token. Pages take large pasted tenant lists (their own reader caps chunked bodies).
const TOKEN_BODY_LIMIT = 8 * 1024;
const OAUTH_BODY_LIMIT = 16 * 1024;
const DEFAULT_BODY_LIMIT = 2 * 1024 * 1024;

/** Returns the maximum request body in bytes for a path. */
export function bodyLimitFor(path: string): number {
  if (path === '/token') return TOKEN_BODY_LIMIT;
  if (path.startsWith('/token/')) return OAUTH_BODY_LIMIT;
  return DEFAULT_BODY_LIMIT;
}

/** Node server options that enforce the header size limit and check timeouts often enough. */
export function serverOptions(limits: RequestLimits): ServerOptions {
  return {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
  };
}

function isOAuthPath(path: string): boolean {
  return path === '/token' || path.startsWith('/token/') || path === '/jwks' || path.startsWith('/.well-known/');
}

/** Writes a rejection in the shape of the area it hit: RFC 6749 §5.2 on OAuth paths, the admin shape elsewhere. */
function reject(ctx: Context, status: number, code: string, description: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Connection', 'close');
  ctx.body = isOAuthPath(ctx.path) ? { error: 'invalid_request', error_description: description } : { code, message: description };
}

/**
 * Rejects, before any handler runs, a request whose target is too long, whose declared body
 * exceeds the path's cap (at once, without reading the body), or whose Content-Length is not a
 * number. A body that is shorter than its Content-Length is ended by the server's request timeout.
 */
export function enforceRequestLimits(limits: RequestLimits) {
  return async function requestLimits(ctx: Context, next: Next): Promise<void> {
    if (ctx.url.length > limits.maxUrlLength) {
      reject(ctx, 414, 'request.uri_too_long', `request target must be at most ${limits.maxUrlLength} characters`);
      return;
    }

    const declared = ctx.get('content-length');
    if (declared !== '' && !/^\d+$/.test(declared)) {
      reject(ctx, 400, 'request.invalid_content_length', 'Content-Length must be a whole number of bytes');
      return;
    }
    const limit = bodyLimitFor(ctx.path);
    if (declared !== '' && Number(declared) > limit) {
      reject(ctx, 413, 'request.too_large', `request body must be at most ${limit} bytes`);
      return;
    }

    await next();
  };
}
