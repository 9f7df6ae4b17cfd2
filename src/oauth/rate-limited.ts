import { errors, type KoaContextWithOIDC } from 'oidc-provider';

import { RateLimitedError } from '../http/rate-limits.js';
import { OAuthError } from './oauth-error.js';

// RFC 6749 §5.2 has no code for "too many requests". `slow_down` is registered for the token
// endpoint (RFC 8628 §3.5) and means that the client is sending too fast and must wait, which
// is what these 429 responses mean. `temporarily_unavailable` (RFC 6749 §4.1.2.1) says the server
// itself is overloaded. tenantgate keeps it for its 503 responses, so a client can tell them apart.
export const RATE_LIMITED_ERROR = 'slow_down';

/** An oidc-provider error that carries how long the client must wait. */
export type RateLimitedProviderError = errors.OIDCProviderError & { retryAfterSeconds: number };

/**
 * Converts a RateLimitedError raised inside oidc-provider's request handling into its error
 * class with status 429; other errors pass through unchanged. `setRetryAfter` (installed on the
 * provider's error events) adds the header, because the place that throws has no Koa context.
 */
export function toRateLimitedProviderError(err: unknown): unknown {
  if (!(err instanceof RateLimitedError)) return err;
  const limited = new errors.CustomOIDCProviderError(RATE_LIMITED_ERROR, err.message);
  // Built with status 400 and `expose` true; only the status changes, so oidc-provider still
  // writes the RFC 6749 body.
  return Object.assign(limited, { status: 429, statusCode: 429, retryAfterSeconds: err.retryAfterSeconds });
}

/** Sets `Retry-After` on a response whose error came from toRateLimitedProviderError. */
export function setRetryAfter(ctx: KoaContextWithOIDC, err: unknown): void {
  const seconds = (err as Partial<RateLimitedProviderError> | undefined)?.retryAfterSeconds;
  if (typeof seconds === 'number') ctx.set('Retry-After', String(seconds));
}

/** Returns the 429 error for a rate-limited request on tenantgate's own OAuth handlers. */
export function rateLimitedOAuthError(err: RateLimitedError): OAuthError {
  return new OAuthError(429, RATE_LIMITED_ERROR, err.message, err.retryAfterSeconds);
}

export { RateLimitedError };
