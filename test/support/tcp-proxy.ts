import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on a loopback port that a test controls, placed between tenantgate and Postgres or
 * Redis, so a test can cut the service without stopping the machine's shared server.
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #pairs = new Set<[Socket, Socket]>();
  #cut = false;
  #paused = false;
  readonly #held: Socket[] = [];
  port = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.#server = createServer((client) => this.#accept(client));
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target.host, target.port);
    proxy.#server.listen(0, '127.0.0.1');
    await once(proxy.#server, 'listening');
    const address = proxy.#server.address();
    proxy.port = typeof address === 'object' && address ? address.port : 0;
    return proxy;
  }

  /** Rewrites a service URL (postgres://…, redis://…) to go through this proxy. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** Drops every open connection and resets new ones until `restore()`, as if the service stopped. */
  cut(): void {
    this.#cut = true;
    for (const [client, upstream] of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.#pairs.clear();
  }

  /**
   * Stops forwarding bytes but keeps every connection open, and holds new ones unanswered, as a
   * hung network path does. `restore()` resumes forwarding.
   */
  pause(): void {
    this.#paused = true;
    for (const [client, upstream] of this.#pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
    }
  }

  restore(): void {
    this.#cut = false;
    if (!this.#paused) return;
    this.#paused = false;
    for (const [client, upstream] of this.#pairs) {
      client.pipe(upstream);
      upstream.pipe(client);
    }
    for (const client of this.#held.splice(0)) {
      if (!client.destroyed) this.#accept(client);
    }
  }

  async close(): Promise<void> {
    this.cut();
    for (const client of this.#held.splice(0)) client.destroy();
    this.#server.close();
    await once(this.#server, 'close');
  }

  #accept(client: Socket): void {
    if (this.#cut) {
      client.destroy();
      return;
    }
    if (this.#paused) {
      this.#held.push(client);
      client.on('error', () => client.destroy());
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    const pair: [Socket, Socket] = [client, upstream];
    this.#pairs.add(pair);
    const drop = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
