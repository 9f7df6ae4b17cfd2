import { connect } from 'node:net';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import pg from 'pg';

// The machine's shared servers; the benchmark creates its own database and drops it afterwards.
const POSTGRES_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = 'redis://127.0.0.1:6379';

export interface BenchStore {
  databaseUrl: string;
  redisUrl?: string;
  /** REDIS_KEY_PREFIX of this store, so runs never share keys and drop() can delete them. */
  redisKeyPrefix?: string;
  drop(): Promise<void>;
}

async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Returns a fresh database for one scenario: a SQLite file in the work folder, or a new Postgres
 * database plus the Redis URL. Returns undefined when Postgres or Redis is not reachable.
 */
export async function createBenchStore(kind: 'sqlite' | 'postgres+redis', workDir: string, name: string): Promise<BenchStore | undefined> {
  if (kind === 'sqlite') return { databaseUrl: `sqlite:${join(workDir, `${name}.sqlite`)}`, drop: async () => undefined };

  if (!(await reachable(5432)) || !(await reachable(6379))) return undefined;
  const database = `tenantgate_bench_${process.pid}_${name.replace(/[^a-z0-9]/g, '_')}`;
  try {
    await adminQuery(`drop database if exists ${database}`);
    await adminQuery(`create database ${database}`);
  } catch (err) {
    process.stderr.write(`cannot create a database on ${POSTGRES_ADMIN_URL}: ${err instanceof Error ? err.message : String(err)}\n`);
    return undefined;
  }
  const redisKeyPrefix = `tenantgate-bench-${process.pid}-${name}:`;
  return {
    databaseUrl: `postgres://postgres@127.0.0.1:5432/${database}`,
    redisUrl: REDIS_URL,
    redisKeyPrefix,
    async drop() {
      await adminQuery(`drop database if exists ${database} with (force)`);
      await deleteRedisKeys(redisKeyPrefix);
    },
  };
}
