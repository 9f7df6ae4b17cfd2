import type { Cluster, Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** Failure allowance and back-off bound for one kind of key. */
export interface BackoffPolicy {
  /** Failures within `windowSeconds` that get the normal error response. */
  readonly freeFailures: number;
  /** Window in which failures are counted, from the first one. */
  readonly windowSeconds: number;
  /** Upper bound of one back-off period, which doubles with each failure past the free ones. */
  readonly maxBackoffSeconds: number;
}

export type BackoffVerdict =
  | { allowed: true }
  /** `started` is set on the failure that starts the first back-off period of a window. */
  | { allowed: false; retryAfterSeconds: number; started?: boolean };

/**
 * Counts failures per key and, past the free allowance, blocks the key for 1, 2, 4, … seconds
 * (exponential back-off) up to the policy's maximum. Callers check a key before they compare any
 * credential. With Redis the counters are shared by every instance. While Redis is
 * not ready, rate-limiter-flexible counts in an in-process insurance limiter instead of
 * waiting or failing.
 */
export class FailureBackoff {
  readonly #failures: RateLimiterAbstract;
  readonly #blocks: RateLimiterAbstract;
  readonly #redis: Redis | Cluster | undefined;

  constructor(
    name: string,
    private readonly policy: BackoffPolicy,
    store: { redis?: Redis | Cluster | undefined; prefix: string },
  ) {
    // `points` is set above any reachable count: the failure counter only counts (penalty), and
    // the block limiter is only written through block(), which stores points + 1.
    const failures = { keyPrefix: `${store.prefix}${name}:failures`, points: Number.MAX_SAFE_INTEGER, duration: policy.windowSeconds };
    const blocks = { keyPrefix: `${store.prefix}${name}:blocked`, points: 1, duration: policy.maxBackoffSeconds };
    this.#redis = store.redis;
    if (store.redis) {
      const redisOptions = { storeClient: store.redis, rejectIfRedisNotReady: true };
      this.#failures = new RateLimiterRedis({ ...failures, ...redisOptions, insuranceLimiter: new RateLimiterMemory(failures) });
      this.#blocks = new RateLimiterRedis({ ...blocks, ...redisOptions, insuranceLimiter: new RateLimiterMemory(blocks) });
    } else {
      this.#failures = new RateLimiterMemory(failures);
      this.#blocks = new RateLimiterMemory(blocks);
    }
  }

  async check(key: string): Promise<BackoffVerdict> {
    // Every token request checks two keys, and almost never is one blocked. A plain GET finds
    // that out in one command, where rate-limiter-flexible sends a transaction of GET and PTTL.
    if (this.#redis?.status === 'ready') {
      const stored = await this.#redis.get(this.#blocks.getKey(key)).catch(() => undefined);
      if (stored === null) return { allowed: true };
    }
    const blocked = await this.#blocks.get(key);
    if (blocked === null || blocked.consumedPoints <= this.#blocks.points || blocked.msBeforeNext <= 0) return { allowed: true };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(blocked.msBeforeNext / 1000)) };
  }

  /**
   * Counts one failure and starts the next back-off period once the free failures are spent.
   * The count is one atomic step, so of any number of concurrent failures at most `freeFailures`
   * are allowed; the rest return the back-off verdict.
   */
  async recordFailure(key: string): Promise<BackoffVerdict> {
    const counted = await this.#failures.penalty(key, 1);
    const excess = counted.consumedPoints - this.policy.freeFailures;
    if (excess <= 0) return { allowed: true };

    const seconds = backoffSeconds(excess, this.policy.maxBackoffSeconds);
    await this.#blocks.block(key, seconds);
    return { allowed: false, retryAfterSeconds: seconds, started: excess === 1 };
  }

  async reset(key: string): Promise<void> {
    await Promise.all([this.#failures.delete(key), this.#blocks.delete(key)]);
  }
}

/** Returns 2^(excess-1) seconds, capped: the first failure past the allowance blocks for 1 s. */
export function backoffSeconds(excess: number, maxSeconds: number): number {
  return Math.min(maxSeconds, 2 ** Math.min(excess - 1, 30));
}
