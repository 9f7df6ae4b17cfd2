import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { createTenantgate, type Tenantgate } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Clock } from '../../src/domain/types.js';
import type { RequestLimits } from '../../src/http/request-limits.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase } from './database.js';

/** A clock the test can move; starts at real time. */
export class TestClock implements Clock {
  offset = 0;

  now(): number {
    return Date.now() + this.offset;
  }

  advance(seconds: number): void {
    this.offset += seconds * 1000;
  }
}

/** Every log line the server wrote, for assertions that no secret reaches a log. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }

  get text(): string {
    return this.lines.join('\n');
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface TestServer {
  url: string;
  tg: Tenantgate;
  dir: string;
  databaseUrl: string;
  dataKey: string;
  env: Record<string, string>;
  clock: TestClock;
  logs: LogCapture;
  stop(): Promise<void>;
}

/**
 * Starts tenantgate on a free loopback port with a fresh database: a SQLite file in a temporary
 * folder, or a fresh Postgres database when DATABASE_URL is a postgres:// URL (see database.ts).
 */
export async function startServer(
  options: { env?: Record<string, string>; dir?: string; databaseUrl?: string; dataKey?: string; port?: number; requestLimits?: Partial<RequestLimits> } = {},
): Promise<TestServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tenantgate-test-'));
  const database = options.databaseUrl ? { url: options.databaseUrl, drop: async () => undefined } : await createTestDatabase(dir);
  const port = options.port ?? (await freePort());
  const dataKey = options.dataKey ?? randomBytes(32).toString('hex');
  // With REDIS_URL set in the test environment every server uses that Redis, under a key prefix
  // of its own so parallel test servers never see each other's keys or change notices.
  const redis: Record<string, string> = process.env.REDIS_URL
    ? { REDIS_URL: process.env.REDIS_URL, REDIS_KEY_PREFIX: `tg-test-${randomBytes(6).toString('hex')}:` }
    : {};
  const env: Record<string, string> = {
    ...redis,
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://127.0.0.1:${port}`,
    DATABASE_URL: database.url,
    DATA_KEY: dataKey,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    ...options.env,
  };
  const config = loadConfig(env);
  const clock = new TestClock();
  const logs = new LogCapture();
  const tg = await createTenantgate({ config, clock, logger: createLogger(config.logLevel, logs), requestLimits: options.requestLimits });
  const { url } = await tg.listen(port, '127.0.0.1');

  return {
    url,
    tg,
    dir,
    databaseUrl: database.url,
    dataKey,
    env,
    clock,
    logs,
    async stop() {
      await tg.close();
      if (!options.databaseUrl) await database.drop();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
