import type { Knex } from 'knex';

// Apps belong to developer organisations, not to networks (see apps.ts), so these queries are
// scoped by app ID only.

export interface AppRateLimitRow {
  tokenRateLimit: number | null;
  tokenBurstLimit: number | null;
}

export async function getAppRateLimit(db: Knex | Knex.Transaction, appId: string): Promise<AppRateLimitRow | undefined> {
  const row = (await db('apps').where('id', appId).first('token_rate_limit', 'token_burst_limit')) as
    | { token_rate_limit: number | null; token_burst_limit: number | null }
    | undefined;
  if (!row) return undefined;
  return {
    tokenRateLimit: row.token_rate_limit === null ? null : Number(row.token_rate_limit),
    tokenBurstLimit: row.token_burst_limit === null ? null : Number(row.token_burst_limit),
  };
}

/** Returns the number of updated rows (0 when the app does not exist). */
export async function setAppRateLimit(db: Knex | Knex.Transaction, appId: string, limit: AppRateLimitRow, now: number): Promise<number> {
  return db('apps').where('id', appId).update({ token_rate_limit: limit.tokenRateLimit, token_burst_limit: limit.tokenBurstLimit, updated_at: now });
}
