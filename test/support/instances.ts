import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { resolve } from 'node:path';

import { freePort } from './server.js';

export const SERVER_ENTRY = resolve('dist/src/main.js');

/**
 * The Postgres and Redis that multi-instance tests run on: DATABASE_URL and REDIS_URL when they
 * name such servers, else POSTGRES_URL and REDIS_TEST_URL (which CI exports for both runs).
 * Without them the tests skip locally and fail under CI=true, where skipping would hide them.
 */
export function scaleServices(): { postgresUrl: string; redisUrl: string } | undefined {
  const database = process.env.DATABASE_URL ?? '';
  const postgresUrl = /^postgres(ql)?:\/\//.test(database) ? database : process.env.POSTGRES_URL;
  const redisUrl = process.env.REDIS_URL ?? process.env.REDIS_TEST_URL;
  if (postgresUrl && redisUrl) return { postgresUrl, redisUrl };
  if (process.env.CI === 'true') {
    throw new Error('multi-instance tests need Postgres and Redis: set DATABASE_URL=postgres://… (or POSTGRES_URL) and REDIS_URL (or REDIS_TEST_URL)');
  }
  return undefined;
}

/** The Redis for tests of the shared state: REDIS_URL, else REDIS_TEST_URL; a failure under CI=true without either. */
export function redisService(): string | undefined {
  const url = process.env.REDIS_URL ?? process.env.REDIS_TEST_URL;
  if (url === undefined && process.env.CI === 'true') throw new Error('shared-state tests need Redis: set REDIS_URL (or REDIS_TEST_URL)');
  return url;
}

/** Fails with the command to run when the compiled server is missing (npm test builds it first). */
export function requireBuild(): void {
  if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing; run \`npx tsc -p .\` before these tests`);
}

/** One tenantgate server in its own process, as a load balancer would see it. */
export class Instance {
  readonly lines: string[] = [];
  #child: ChildProcess | undefined;

  private constructor(
    readonly name: string,
    readonly port: number,
    readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts an instance on a free port and waits until /readyz returns 200. */
  static async start(name: string, env: Record<string, string>, port?: number): Promise<Instance> {
    const instance = new Instance(name, port ?? (await freePort()), env);
    await instance.spawn();
    return instance;
  }

  async spawn(): Promise<void> {
    const child = spawn(process.execPath, [SERVER_ENTRY], {
      env: { PATH: process.env.PATH ?? '', ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    const collect = (chunk: Buffer) => this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    await this.waitForReady();
  }

  async waitForReady(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.#child?.exitCode !== null) throw new Error(`instance ${this.name} exited during start-up:\n${this.lines.join('\n')}`);
      const ready = await fetch(`${this.url}/readyz`).then((response) => response.status === 200, () => false);
      if (ready) return;
      await new Promise((done) => setTimeout(done, 100));
    }
    throw new Error(`instance ${this.name} was not ready within ${timeoutMs} ms:\n${this.lines.join('\n')}`);
  }

  /** Kills the process with `signal`, waits for it to exit, and returns its exit code (null when killed by the signal). */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    child.kill(signal);
    const [code] = await exited;
    return code;
  }

  /** Log lines (pino JSON) whose message contains `text`. */
  logged(text: string): Array<Record<string, unknown>> {
    return this.lines
      .filter((line) => line.includes(text))
      .map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          return { msg: line };
        }
      });
  }
}

/** Environment shared by every instance of one test deployment: one database, one Redis prefix, one DATA_KEY. */
export function deploymentEnv(databaseUrl: string, redisUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `tg-scale-${randomBytes(6).toString('hex')}:`,
    DATA_KEY: randomBytes(32).toString('hex'),
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
  };
}
