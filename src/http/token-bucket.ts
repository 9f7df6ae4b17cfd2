import type { Cluster, Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

/** A token bucket's size: it refills at `rate` tokens per second up to `burst` tokens. */
export interface BucketLimit {
  readonly rate: number;
  readonly burst: number;
}

export type BucketDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

export interface TokenBucketStore {
  /** Takes one token from the bucket of `key`; the check and the take are one atomic step. */
  take(key: string, limit: BucketLimit): Promise<BucketDecision>;
}

// Bound on buckets kept in one process. A bucket evicted early only starts full again, which
// is at most one extra burst for a client that was idle long enough to be least recently used.
const MEMORY_BUCKETS_MAX = 100_000;

type BucketState = { tokens: number; updatedAt: number };

/** Refills a bucket for the time since its last update, then takes one token if it can. */
export function takeToken(state: BucketState | undefined, limit: BucketLimit, now: number): { state: BucketState; decision: BucketDecision } {
  const elapsedMs = state === undefined ? 0 : Math.max(0, now - state.updatedAt);
  const tokens = Math.min(limit.burst, (state?.tokens ?? limit.burst) + (elapsedMs * limit.rate) / 1000);
  if (tokens >= 1) return { state: { tokens: tokens - 1, updatedAt: now }, decision: { allowed: true } };
  return { state: { tokens, updatedAt: now }, decision: { allowed: false, retryAfterMs: Math.ceil(((1 - tokens) * 1000) / limit.rate) } };
}

/**
 * Buckets in process memory, for a single instance. JavaScript runs each `take` to the end
 * before the next starts, so concurrent requests cannot both spend the last token.
 */
export class MemoryTokenBuckets implements TokenBucketStore {
  readonly #buckets = new LRUCache<string, BucketState>({ max: MEMORY_BUCKETS_MAX });

  async take(key: string, limit: BucketLimit): Promise<BucketDecision> {
    const { state, decision } = takeToken(this.#buckets.get(key), limit, Date.now());
    this.#buckets.set(key, state);
    return decision;
  }
}

// The same refill-then-take step as takeToken, run inside Redis so that every instance shares one
// bucket per key and no two requests read the same count. Redis's own clock (TIME) is used, so
// instances with skewed clocks still agree. The key expires once a full refill has passed.
const TAKE_TOKEN_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'updated_at')
local tokens = tonumber(saved[1]) or burst
local updated = tonumber(saved[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated_at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
`;

type WithTakeToken = { tenantgateTakeToken(key: string, rate: number, burst: number): Promise<unknown> };

/** Buckets shared by every instance through Redis. */
export class RedisTokenBuckets implements TokenBucketStore {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
  ) {
    // ioredis sends a defined command as EVALSHA and falls back to EVAL once when Redis does not
    // have the script yet, so each request sends the script's hash instead of its text.
    redis.defineCommand('tenantgateTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN_SCRIPT });
  }

  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  async take(key: string, limit: BucketLimit): Promise<BucketDecision> {
    const wait = Number(await (this.redis as unknown as WithTakeToken).tenantgateTakeToken(this.prefix + key, limit.rate, limit.burst));
    return wait === 0 ? { allowed: true } : { allowed: false, retryAfterMs: wait };
  }
}
