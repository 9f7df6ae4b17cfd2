import { randomUUID } from 'node:crypto';

import type { Context, Next } from 'koa';

import { DomainError } from '../domain/errors.js';
import type { Logger } from '../logger.js';
import { OAuthError, writeOAuthError } from '../oauth/oauth-error.js';
import { OAUTH_ROUTES } from '../oauth/provider.js';
import { RETRY_AFTER_SECONDS, StorageUnavailableError, STORAGE_UNAVAILABLE_DESCRIPTION } from '../oauth/storage-unavailable.js';
import { loggablePath } from './loggable-path.js';
import { RequestAbortedError } from './read-body.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,80}$/;

/** Returns the caller's X-Request-Id when it is a plain token, or a new random one. */
export function requestIdFor(incoming: string | undefined): string {
  return incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** Headers on every response. JSON and plain text need nothing loaded or framed, and pages replace the policy. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

export function requestLog(logger: Logger) {
  return async function logRequest(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    ctx.state.requestId = requestIdFor(ctx.get('x-request-id'));
    ctx.set('X-Request-Id', ctx.state.requestId as string);
    try {
      await next();
    } finally {
      const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
      // Successful token requests are the bulk of all traffic and are counted with their latency
      // in /metrics; one info line each was the largest cost on the token path after signing.
      const level = status < 400 && ctx.path === OAUTH_ROUTES.token ? 'debug' : 'info';
      logger[level](
        {
          request_id: ctx.state.requestId,
          method: ctx.method,
          path: loggablePath(ctx.path),
          status,
          outcome: ctx.state.outcome,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'request',
      );
    }
  };
}

export function errorHandler(logger: Logger, issuer: string) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      if (err instanceof OAuthError) {
        if (err.status === 503) ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
        writeOAuthError(ctx, err, issuer);
        return;
      }
      if (err instanceof StorageUnavailableError) {
        logger.error({ err, request_id: ctx.state.requestId, path: loggablePath(ctx.path) }, err.message);
        ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
        writeOAuthError(ctx, new OAuthError(503, 'temporarily_unavailable', STORAGE_UNAVAILABLE_DESCRIPTION), issuer);
        return;
      }
      if (err instanceof RequestAbortedError) {
        // The client closed the connection mid-body, so no one reads this response and it is no server error.
        logger.info({ request_id: ctx.state.requestId, path: loggablePath(ctx.path), err: err.cause }, 'request aborted by the client');
        ctx.status = 400;
        ctx.body = { error: 'invalid_request', error_description: err.message };
        return;
      }
      if (err instanceof DomainError) {
        ctx.status = err.status;
        ctx.body = { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
        return;
      }
      logger.error({ err, request_id: ctx.state.requestId, path: loggablePath(ctx.path) }, 'unhandled error');
      ctx.status = 500;
      ctx.body = { error: 'server_error', error_description: 'an unexpected error occurred; the request ID is in X-Request-Id' };
    }
  };
}

export async function securityHeaders(ctx: Context, next: Next): Promise<void> {
  // Pages set their own Content-Security-Policy over this one.
  ctx.set(SECURITY_HEADERS);
  await next();
}
