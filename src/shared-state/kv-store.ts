import type { Cluster, Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

/**
 * A small key-value store with expiry, for shared ephemeral state (web sessions, rate-limit
 * counters, oidc-provider's short-lived models). Keys passed in are relative to the store's
 * namespace. The Redis implementation rejects when Redis is unreachable; callers decide whether
 * to fail or fall back.
 */
export interface KeyValueStore {
  get(key: string): Promise<string | undefined>;
  /** Stores `value` for `ttlMs` milliseconds (at least 1). */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Adds 1 and returns the new count; the increment that creates the key sets its expiry. */
  increment(key: string, ttlMs: number): Promise<number>;
}

// Bound on entries of one in-process store; the least recently used entry goes first.
const MEMORY_STORE_MAX = 100_000;

export class MemoryKeyValueStore implements KeyValueStore {
  readonly #entries = new LRUCache<string, string>({ max: MEMORY_STORE_MAX, ttlAutopurge: false });

  constructor(private readonly prefix = '') {}

  async get(key: string): Promise<string | undefined> {
    return this.#entries.get(this.prefix + key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.#entries.set(this.prefix + key, value, { ttl: Math.max(1, Math.ceil(ttlMs)) });
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(this.prefix + key);
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    const full = this.prefix + key;
    const current = this.#entries.get(full);
    const next = (current === undefined ? 0 : Number(current)) + 1;
    if (current === undefined) this.#entries.set(full, String(next), { ttl: Math.max(1, Math.ceil(ttlMs)) });
    else this.#entries.set(full, String(next), { noUpdateTTL: true });
    return next;
  }
}

// INCR and PEXPIRE in one atomic step, so a counter never exists without an expiry.
const INCREMENT_SCRIPT = "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n";

export class RedisKeyValueStore implements KeyValueStore {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
  ) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.prefix + key)) ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.prefix + key, value, 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    return Number(await this.redis.eval(INCREMENT_SCRIPT, 1, this.prefix + key, Math.max(1, Math.ceil(ttlMs))));
  }
}
