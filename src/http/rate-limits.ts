import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';

import type { Cluster, Redis } from 'ioredis';

import type { Logger } from '../logger.js';
import { FailureBackoff, type BackoffPolicy, type BackoffVerdict } from './failure-backoff.js';
import { MemoryTokenBuckets, RedisTokenBuckets, type BucketDecision, type BucketLimit } from './token-bucket.js';

// Failed client authentications per (client ID, source address): ten mistakes an hour are
// allowed for a misconfigured deployment, then back-off doubles from 1 s up to 15 minutes.
// The key includes the address, so a stranger who has a client ID (it is in every token) cannot
// lock the real client out from elsewhere. A 256-bit secret cannot be guessed online anyway.
export const CLIENT_AUTH_BACKOFF: BackoffPolicy = { freeFailures: 10, windowSeconds: 3600, maxBackoffSeconds: 900 };

// Failed client authentications per source address over all client IDs, which stops one
// address from scanning client IDs. It is looser because several apps may share a NAT address.
export const ADDRESS_AUTH_BACKOFF: BackoffPolicy = { freeFailures: 50, windowSeconds: 3600, maxBackoffSeconds: 900 };

// Repeats of the "Redis unavailable" warning are dropped for this long, so an outage under load
// does not write one line per request.
const REDIS_WARNING_INTERVAL_MS = 60_000;

/** Rejection by a rate limit; `retryAfterSeconds` is sent as `Retry-After`. */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError';

  constructor(
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super(message);
  }
}

/** Returns a fixed-length key part, so attacker-chosen client IDs cannot grow keys or inject ':' separators. */
function keyPart(...values: string[]): string {
  return createHash('sha256').update(values.join('\u0000')).digest('base64url').slice(0, 32);
}

function throwIfBlocked(verdicts: BackoffVerdict[], message: string): void {
  const waits = verdicts.flatMap((verdict) => (verdict.allowed ? [] : [verdict.retryAfterSeconds]));
  if (waits.length > 0) throw new RateLimitedError(Math.max(...waits), message);
}

/**
 * Every rate limit of the OAuth endpoints, in process memory or, when a Redis connection is
 * given, in Redis shared by all instances.
 */
export class RateLimits {
  readonly #memoryBuckets = new MemoryTokenBuckets();
  readonly #redisBuckets: RedisTokenBuckets | undefined;
  readonly #clientAuth: FailureBackoff;
  readonly #addressAuth: FailureBackoff;
  readonly #request = new AsyncLocalStorage<{ address: string; refusal: RateLimitedError | undefined }>();
  #lastRedisWarning = 0;

  /**
   * Creates the limiters. `redis` should fail fast (no offline queue, a command timeout), as
   * SharedState's connection does. `keyPrefix` is the Redis key space of rate limits, for example
   * `tenantgate:ratelimit:`.
   */
  constructor(
    private readonly logger: Logger,
    shared: { redis?: Redis | Cluster | undefined; keyPrefix: string },
  ) {
    const { redis, keyPrefix } = shared;
    const store = { redis, prefix: keyPrefix };
    this.#redisBuckets = redis ? new RedisTokenBuckets(redis, `${keyPrefix}token:`) : undefined;
    this.#clientAuth = new FailureBackoff('client-auth', CLIENT_AUTH_BACKOFF, store);
    this.#addressAuth = new FailureBackoff('address-auth', ADDRESS_AUTH_BACKOFF, store);
  }

  /**
   * Spends one token request of an authenticated client. Throws RateLimitedError when the
   * client's bucket is empty. While Redis is unreachable, this instance's own buckets decide.
   */
  async admitTokenRequest(clientId: string, limit: BucketLimit): Promise<void> {
    const key = keyPart(clientId);
    let decision: BucketDecision | undefined;
    if (this.#redisBuckets?.ready) {
      try {
        decision = await this.#redisBuckets.take(key, limit);
      } catch (err) {
        this.#warnRedisUnavailable(err);
      }
    }
    decision ??= await this.#memoryBuckets.take(key, limit);
    if (!decision.allowed) {
      throw new RateLimitedError(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)), `token request rate limit of ${limit.rate} per second exceeded`);
    }
  }

  /**
   * Rejects, before any secret is compared, a client ID and address in back-off after failures.
   * NOTE: with Redis this costs two round trips per authentication, and the token bucket one
   * more per token request, which the Redis runs of the benchmark include.
   */
  async assertClientAuthAllowed(clientId: string, address: string): Promise<void> {
    const verdicts = await Promise.all([this.#addressAuth.check(keyPart(address)), this.#clientAuth.check(keyPart(clientId, address))]);
    throwIfBlocked(verdicts, 'too many failed client authentications');
  }

  /**
   * Counts a failed client authentication. Throws RateLimitedError when this failure is past the
   * free allowance, so the caller responds 429 instead of 401 however many requests ran at once.
   */
  async recordClientAuthFailure(clientId: string, address: string): Promise<void> {
    const [byAddress, byClient] = await Promise.all([this.#addressAuth.recordFailure(keyPart(address)), this.#clientAuth.recordFailure(keyPart(clientId, address))]);
    // One line per key and window, however long the attack goes on. Client IDs are not secret,
    // but an attacker chooses them, so only a bounded prefix is logged.
    for (const [scope, verdict] of [['address', byAddress], ['client and address', byClient]] as const) {
      if (!verdict.allowed && verdict.started) {
        this.logger.warn({ client_id: clientId.slice(0, 100), address, scope }, 'client authentication back-off started after repeated failures');
      }
    }
    throwIfBlocked([byAddress, byClient], 'too many failed client authentications');
  }

  /**
   * Runs `work` with the client address that the Koa app derived for the request (honouring
   * TRUST_PROXY), so checks deep inside oidc-provider count against the same address.
   */
  withAddress<T>(address: string, work: () => Promise<T>, refusal?: RateLimitedError): Promise<T> {
    return this.#request.run({ address, refusal }, work);
  }

  /** Returns the address of the request being served, or "unknown" outside withAddress. */
  currentAddress(): string {
    return this.#request.getStore()?.address ?? 'unknown';
  }

  /**
   * Spends one token request like admitTokenRequest, unless the token fast path already asked
   * the bucket for this request and was rejected. Then it throws that rejection (given to
   * withAddress), so each request gets one decision from the bucket.
   */
  async admitTokenRequestOnce(clientId: string, limit: BucketLimit): Promise<void> {
    const store = this.#request.getStore();
    if (store?.refusal) throw store.refusal;
    await this.admitTokenRequest(clientId, limit);
  }

  #warnRedisUnavailable(err: unknown): void {
    const now = Date.now();
    if (now - this.#lastRedisWarning < REDIS_WARNING_INTERVAL_MS) return;
    this.#lastRedisWarning = now;
    this.logger.warn({ err }, 'Redis unavailable for token rate limits; this instance counts on its own until it returns');
  }
}
