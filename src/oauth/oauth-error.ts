import type { Context } from 'koa';

/** An RFC 6749 §5.2 error raised by tenantgate's own OAuth handlers (introspection, revocation). */
export class OAuthError extends Error {
  override name = 'OAuthError';

  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    /** Seconds the client must wait before retrying, sent as `Retry-After` (RFC 9110 §10.2.3). */
    readonly retryAfterSeconds?: number,
  ) {
    super(description);
  }
}

/** Writes an RFC 6749 error body, with `no-store` because the request carried credentials. */
export function writeOAuthError(ctx: Context, err: OAuthError, realm: string): void {
  ctx.status = err.status;
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  if (err.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(err.retryAfterSeconds));
  if (err.status === 401 && ctx.get('authorization') !== '') {
    ctx.set('WWW-Authenticate', `Basic realm="${realm}", error="${err.error}", error_description="${err.description}"`);
  }
  ctx.body = { error: err.error, error_description: err.description };
}
