import { randomUUID } from 'node:crypto';

import { Cluster, Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';

import type { Logger } from '../logger.js';
import { namespacedKey, type KeyPurpose } from './keys.js';
import { MemoryKeyValueStore, RedisKeyValueStore, type KeyValueStore } from './kv-store.js';
import { parseRedisUrl, redactRedisUrl } from './redis-url.js';

export type SharedStateStatus = 'not_configured' | 'ok' | 'unreachable';

/** A change notice sent to every instance; `origin` lets the sender skip its own notice. */
export interface InvalidationMessage {
  origin: string;
  reason: string;
}

/** A running instance's entry in the instance registry. */
export interface InstanceReport {
  id: string;
  /** Key IDs this instance's JWKS publishes. */
  kids: string[];
  activeKid: string;
  /** Epoch ms after which the report counts as stale (the instance stopped or lost Redis). */
  expiresAt: number;
}

export interface RateLimiterSettings {
  /** Name of the limit, part of its keys (`ratelimit:NAME:…`). */
  name: string;
  /** Requests allowed per `duration`. */
  points: number;
  /** Window length in seconds. */
  duration: number;
  /** Seconds a key stays blocked once it went over the limit (0: until the window ends). */
  blockDuration?: number;
}

// How often the Redis connection is probed with PING. A paused network path leaves the socket
// open, so only a probe that times out notices it.
const HEALTH_CHECK_INTERVAL_MS = 1000;
// A command that takes longer than this counts as a failure: the caller then falls back to SQL
// or to in-process limits instead of holding a token request.
const COMMAND_TIMEOUT_MS = 1000;
const CONNECT_TIMEOUT_MS = 2000;
// Reconnect back-off: 100 ms, 200 ms, … capped at 2 s, for ever (recovery needs no restart).
const RECONNECT_STEP_MS = 100;
const RECONNECT_MAX_MS = 2000;
// An instance re-reports every probe; a report older than this belongs to a stopped instance.
const INSTANCE_REPORT_TTL_MS = 5000;

/**
 * Shared ephemeral state across instances: Redis when REDIS_URL is set, in-process otherwise.
 * It owns two connections (commands and the invalidation subscription), tracks whether Redis is
 * reachable, and announces each change of that (`onHealthChange`) so callers can degrade.
 */
export class SharedState {
  readonly instanceId = randomUUID();
  readonly #keyPrefix: string;
  readonly #logger: Logger | undefined;
  readonly #client: Redis | Cluster | undefined;
  readonly #subscriber: Redis | Cluster | undefined;
  readonly #stores = new Map<KeyPurpose, KeyValueStore>();
  readonly #invalidationListeners: Array<(message: InvalidationMessage) => void> = [];
  readonly #healthListeners: Array<(healthy: boolean) => void> = [];
  #healthy: boolean;
  // Whether Redis was reachable before, so the first connection is not logged as a recovery.
  #wasHealthy = false;
  #lastError: string | undefined;
  #failedProbes = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  #reportSource: (() => Omit<InstanceReport, 'id' | 'expiresAt'>) | undefined;

  constructor(options: { redisUrl: string | undefined; keyPrefix: string; logger?: Logger; subscribe?: boolean }) {
    this.#keyPrefix = options.keyPrefix;
    this.#logger = options.logger;
    if (options.redisUrl === undefined) {
      this.#healthy = true;
      return;
    }

    // Start degraded: until a PING succeeds, nothing may trust a cache that only Redis keeps true.
    this.#healthy = false;
    this.#client = connect(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: COMMAND_TIMEOUT_MS });
    this.#watch(this.#client, 'commands');
    if (options.subscribe !== false) {
      // The subscription is queued until connected and renewed by ioredis after each reconnect.
      this.#subscriber = connect(options.redisUrl, { enableOfflineQueue: true, maxRetriesPerRequest: null });
      this.#watch(this.#subscriber, 'subscriber');
      this.#subscriber.on('message', (_channel: string, payload: string) => this.#deliver(payload));
      this.#subscriber.subscribe(this.#channel).catch((err: unknown) => this.#noteError(err));
    }
    this.#timer = setInterval(() => void this.#probe(), HEALTH_CHECK_INTERVAL_MS);
    this.#timer.unref();
    this.#logger?.info({ redis: redactRedisUrl(options.redisUrl), key_prefix: this.#keyPrefix }, 'connecting to Redis for shared state');
  }

  get configured(): boolean {
    return this.#client !== undefined;
  }

  /** False while Redis is configured but unreachable. */
  get healthy(): boolean {
    return this.#healthy;
  }

  get status(): SharedStateStatus {
    if (!this.configured) return 'not_configured';
    return this.#healthy ? 'ok' : 'unreachable';
  }

  /** The ioredis client, for libraries that take one (rate-limiter-flexible); undefined without REDIS_URL. */
  get redis(): Redis | Cluster | undefined {
    return this.#client;
  }

  key(purpose: KeyPurpose, ...parts: string[]): string {
    return namespacedKey(this.#keyPrefix, purpose, ...parts);
  }

  /** Returns the store of one purpose: Redis-backed when configured (rejecting while unreachable), else in-process. */
  store(purpose: KeyPurpose): KeyValueStore {
    let store = this.#stores.get(purpose);
    if (!store) {
      const prefix = `${this.key(purpose)}:`;
      store = this.#client ? new RedisKeyValueStore(this.#client, prefix) : new MemoryKeyValueStore(prefix);
      this.#stores.set(purpose, store);
    }
    return store;
  }

  /**
   * Builds a limiter whose counters are shared through Redis. While Redis is unreachable each
   * instance counts on its own (the in-process insurance limiter), so the effective limit is up
   * to N times `points` for N instances until Redis returns.
   */
  createRateLimiter(settings: RateLimiterSettings): RateLimiterAbstract {
    const base = { points: settings.points, duration: settings.duration, blockDuration: settings.blockDuration ?? 0 };
    const memory = new RateLimiterMemory({ ...base, keyPrefix: settings.name });
    if (!this.#client) return memory;
    return new RateLimiterRedis({
      ...base,
      storeClient: this.#client,
      keyPrefix: this.key('ratelimit', settings.name),
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory,
    });
  }

  /** Tells every other instance that committed state changed. Without Redis there is no one to tell. */
  async publishInvalidation(reason: string): Promise<void> {
    if (!this.#client) return;
    const message: InvalidationMessage = { origin: this.instanceId, reason };
    await this.#client.publish(this.#channel, JSON.stringify(message));
  }

  onInvalidation(listener: (message: InvalidationMessage) => void): void {
    this.#invalidationListeners.push(listener);
  }

  onHealthChange(listener: (healthy: boolean) => void): void {
    this.#healthListeners.push(listener);
  }

  /**
   * Registers what this instance reports in the instance registry; the report is written after
   * every successful probe and by `report()`.
   */
  reportWith(source: () => Omit<InstanceReport, 'id' | 'expiresAt'>): void {
    this.#reportSource = source;
  }

  /** Writes this instance's report now (after a key change, so a rotation need not wait a probe). */
  async report(): Promise<void> {
    if (!this.#client || !this.#reportSource || this.#closed) return;
    const report: InstanceReport = { ...this.#reportSource(), id: this.instanceId, expiresAt: Date.now() + INSTANCE_REPORT_TTL_MS };
    // The expiry on the whole hash removes it once no instance of this prefix reports any more.
    await this.#client.multi().hset(this.key('instance'), this.instanceId, JSON.stringify(report)).pexpire(this.key('instance'), INSTANCE_REPORT_TTL_MS).exec();
  }

  /**
   * Lists the instances that reported recently, pruning stale reports. One hash contains every
   * report, so the read is a single key on Redis Cluster too.
   */
  async listInstances(): Promise<InstanceReport[]> {
    if (!this.#client) return [];
    const now = Date.now();
    const entries = await this.#client.hgetall(this.key('instance'));
    const live: InstanceReport[] = [];
    for (const [id, raw] of Object.entries(entries)) {
      const report = JSON.parse(raw) as InstanceReport;
      if (report.expiresAt > now) live.push(report);
      else await this.#client.hdel(this.key('instance'), id);
    }
    return live;
  }

  /** Resolves true once a PING succeeds, or false after `timeoutMs`. Without Redis it resolves true at once. */
  async ready(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#healthy && Date.now() < deadline && !this.#closed) {
      await this.#probe();
      if (!this.#healthy) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.#healthy;
  }

  /** Removes this instance's report and closes both connections; later calls return the first call's promise. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#reportSource && this.#healthy) await this.#client?.hdel(this.key('instance'), this.instanceId).catch(() => undefined);
    this.#closed = true;
    await Promise.all([this.#client, this.#subscriber].map((connection) => connection && closeConnection(connection)));
  }

  get #channel(): string {
    return this.key('invalidation');
  }

  #deliver(payload: string): void {
    let message: InvalidationMessage;
    try {
      message = JSON.parse(payload) as InvalidationMessage;
    } catch {
      this.#logger?.warn('ignored a malformed invalidation message');
      return;
    }
    if (message.origin === this.instanceId) return;
    for (const listener of this.#invalidationListeners) listener(message);
  }

  #watch(connection: Redis | Cluster, role: string): void {
    connection.on('error', (err: unknown) => this.#noteError(err));
    connection.on('close', () => this.#setHealthy(false, `${role} connection closed`));
    connection.on('ready', () => void this.#probe());
  }

  #noteError(err: unknown): void {
    // ioredis reports each failed reconnect; only the latest is kept, for the transition log.
    this.#lastError = err instanceof Error ? err.message : String(err);
  }

  async #probe(): Promise<void> {
    if (!this.#client || this.#closed) return;
    const connected = this.#client.status === 'ready' && (this.#subscriber === undefined || this.#subscriber.status === 'ready');
    if (!connected) {
      this.#setHealthy(false, 'not connected');
      return;
    }
    try {
      await this.#client.ping();
      this.#failedProbes = 0;
      this.#setHealthy(true, 'ping answered');
      await this.report();
    } catch (err) {
      this.#noteError(err);
      this.#failedProbes += 1;
      this.#setHealthy(false, 'ping failed');
      // A hung network path leaves both connections "ready", so every command would wait for its
      // timeout. Reconnecting makes them report not ready, so callers fall back at once.
      for (const connection of [this.#client, this.#subscriber]) connection?.disconnect(true);
    }
  }

  #setHealthy(healthy: boolean, reason: string): void {
    if (this.#closed || healthy === this.#healthy) return;
    this.#healthy = healthy;
    if (healthy) {
      const message = this.#wasHealthy ? 'Redis reachable; shared caches and limits are in use again' : 'Redis reachable; shared caches and limits are in use';
      this.#wasHealthy = true;
      this.#logger?.info({ reason }, message);
    } else {
      this.#logger?.warn(
        { reason, error: this.#lastError, failed_probes: this.#failedProbes },
        'Redis unreachable; reading SQL on every request and limiting in process until it returns',
      );
    }
    for (const listener of this.#healthListeners) listener(healthy);
  }
}

/**
 * Sends QUIT when connected, bounded by the command timeout, then drops the socket. A connection
 * that is reconnecting gets no QUIT, because with an offline queue it would wait for ever.
 */
async function closeConnection(connection: Redis | Cluster): Promise<void> {
  if (connection.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, COMMAND_TIMEOUT_MS);
    });
    await Promise.race([connection.quit().then(() => undefined, () => undefined), timeout]);
    clearTimeout(timer);
  }
  connection.disconnect();
}

function connect(url: string, options: { enableOfflineQueue: boolean; maxRetriesPerRequest: number | null; commandTimeout?: number }): Redis | Cluster {
  const target = parseRedisUrl(url);
  const common = {
    ...options,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt: number) => Math.min(attempt * RECONNECT_STEP_MS, RECONNECT_MAX_MS),
  };
  if (target.kind === 'cluster') {
    return new Cluster(target.nodes, {
      ...target.options,
      enableOfflineQueue: options.enableOfflineQueue,
      clusterRetryStrategy: common.retryStrategy,
      redisOptions: { ...target.options.redisOptions, ...common },
    });
  }
  if (target.kind === 'sentinel') return new Redis({ ...target.options, ...common });
  return new Redis(target.url, { ...target.options, ...common });
}
