import { getAppRateLimit, setAppRateLimit as storeAppRateLimit } from '../storage/app-rate-limits.js';
import { change, type DomainContext } from './context.js';
import { invalid, notFound } from './errors.js';
import type { Actor } from './types.js';

// Token requests per client when the operator has set nothing for the app: enough for an app
// that fetches a token per tenant for 50 tenants every second, with room for a cold-start burst.
export const TOKEN_RATE_DEFAULT = 50;
export const TOKEN_BURST_DEFAULT = 100;

// Bounds on what an operator may set. Above 10,000 per second one client could keep an instance
// busy signing tokens; a burst above 100,000 would be no limit at all.
export const TOKEN_RATE_MAX = 10_000;
export const TOKEN_BURST_MAX = 100_000;

/** The token bucket of every connection client of one app. */
export interface AppRateLimit {
  /** Token requests per second, per connection client. */
  rate: number;
  /** Requests a client may send at once after being idle. */
  burst: number;
  /** Whether the values are the server defaults (nothing set for the app). */
  isDefault: boolean;
}

/** Returns the limit for an app row or client record; null columns fall back to the defaults. */
export function effectiveRateLimit(row: { tokenRateLimit: number | null; tokenBurstLimit: number | null }): AppRateLimit {
  return {
    rate: row.tokenRateLimit ?? TOKEN_RATE_DEFAULT,
    burst: row.tokenBurstLimit ?? TOKEN_BURST_DEFAULT,
    isDefault: row.tokenRateLimit === null && row.tokenBurstLimit === null,
  };
}

export async function getAppTokenRateLimit(ctx: DomainContext, appId: string): Promise<AppRateLimit> {
  const row = await getAppRateLimit(ctx.db, appId);
  if (!row) throw notFound('app', appId);
  return effectiveRateLimit(row);
}

/**
 * Sets an app's token rate limit, or restores the defaults when `limit` is null. The burst
 * defaults to twice the rate and must be at least the rate, or the rate could never be reached.
 * The change applies to the next token request on every instance (the cache epoch moves).
 */
export async function setAppTokenRateLimit(
  ctx: DomainContext,
  actor: Actor,
  appId: string,
  limit: { rate: number; burst?: number | undefined } | null,
): Promise<AppRateLimit> {
  const row = limit === null ? { tokenRateLimit: null, tokenBurstLimit: null } : checkedLimit(limit.rate, limit.burst ?? Math.min(2 * limit.rate, TOKEN_BURST_MAX));

  return change(ctx, actor, async ({ trx, now, audit }) => {
    const updated = await storeAppRateLimit(trx, appId, row, now);
    if (updated === 0) throw notFound('app', appId);
    audit({ networkId: null, action: 'app.rate_limit_set', targetType: 'app', targetId: appId, details: { rate: row.tokenRateLimit, burst: row.tokenBurstLimit } });
    return effectiveRateLimit(row);
  });
}

function checkedLimit(rate: number, burst: number): { tokenRateLimit: number; tokenBurstLimit: number } {
  if (!Number.isInteger(rate) || rate < 1 || rate > TOKEN_RATE_MAX) {
    throw invalid('app.invalid_rate_limit', `rate must be a whole number of requests per second from 1 to ${TOKEN_RATE_MAX}`);
  }
  if (!Number.isInteger(burst) || burst < rate || burst > TOKEN_BURST_MAX) {
    throw invalid('app.invalid_rate_limit', `burst must be a whole number from the rate (${rate}) to ${TOKEN_BURST_MAX}`);
  }
  return { tokenRateLimit: rate, tokenBurstLimit: burst };
}
