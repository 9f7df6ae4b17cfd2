import type { Config } from '../config.js';
import { SharedState } from '../shared-state/shared-state.js';

// How long the CLI waits for Redis before it gives up on telling running servers directly.
const REDIS_CONNECT_WAIT_MS = 3000;
const INSTANCE_POLL_MS = 200;

/**
 * Tells running servers about the CLI's changes over Redis (when REDIS_URL is set), so idle
 * instances refresh at once. Servers do not depend on it: each request reads the cache epoch.
 */
export class ChangeNotices {
  #shared: SharedState | undefined;
  readonly #pending: Array<Promise<void>> = [];

  constructor(private readonly config: Config) {}

  /** Connects on first use, so commands that change nothing never open a Redis connection. */
  #connection(): SharedState | undefined {
    if (this.config.redisUrl === undefined) return undefined;
    this.#shared ??= new SharedState({ redisUrl: this.config.redisUrl, keyPrefix: this.config.redisKeyPrefix, subscribe: false });
    return this.#shared;
  }

  /** Queues a change notice; `flush` waits for it. */
  notify(): void {
    const shared = this.#connection();
    if (!shared) return;
    this.#pending.push(
      (async () => {
        if (!(await shared.ready(REDIS_CONNECT_WAIT_MS))) throw new Error('Redis is unreachable');
        await shared.publishInvalidation('cli change');
      })().catch((err: unknown) => {
        const reason = err instanceof Error ? err.message : String(err);
        process.stderr.write(`tenantgate: warning: could not notify running servers (${reason}); they see the change on their next request\n`);
      }),
    );
  }

  async flush(): Promise<void> {
    await Promise.all(this.#pending.splice(0));
  }

  /**
   * Waits until every running instance that reports to Redis publishes `kid` in its JWKS.
   * Returns the instances seen; without Redis, returns an empty list at once (one instance is
   * assumed, and it reloads its keys on its next request).
   */
  async waitForKey(kid: string, timeoutMs: number): Promise<string[]> {
    const shared = this.#connection();
    if (!shared) return [];
    if (!(await shared.ready(REDIS_CONNECT_WAIT_MS))) throw new Error('Redis is unreachable, so the CLI cannot confirm that every instance publishes the next key; retry when it is back');

    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const instances = await shared.listInstances();
      const missing = instances.filter((instance) => !instance.kids.includes(kid));
      if (missing.length === 0) return instances.map((instance) => instance.id);
      if (Date.now() >= deadline) {
        throw new Error(
          `instances ${missing.map((instance) => instance.id).join(', ')} did not publish key ${kid} within ${timeoutMs / 1000} s; ` +
            'the key stays published but is not signing yet; run `tenantgate keys rotate` again',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, INSTANCE_POLL_MS));
    }
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#shared?.close();
  }
}
