import type { ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';

/** The ioredis connection that REDIS_URL describes: one server, a Sentinel-managed primary, or a Cluster. */
export type RedisTarget =
  | { kind: 'standalone'; url: string; options: RedisOptions }
  | { kind: 'sentinel'; options: RedisOptions }
  | { kind: 'cluster'; nodes: ClusterNode[]; options: ClusterOptions };

export class RedisUrlError extends Error {
  override name = 'RedisUrlError';
}

const DEFAULT_SENTINEL_PORT = 26379;
const DEFAULT_REDIS_PORT = 6379;

function hostList(value: string, defaultPort: number, url: string): Array<{ host: string; port: number }> {
  return value.split(',').map((entry) => {
    const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
    if (!match) throw new RedisUrlError(`REDIS_URL has an invalid host "${entry}" in ${redactRedisUrl(url)}`);
    return { host: match[1]!.replace(/^\[|\]$/g, ''), port: match[2] ? Number(match[2]) : defaultPort };
  });
}

/**
 * Splits `scheme://[user[:password]@]host1[:port],host2[:port][/path][?query]`. The WHATWG URL
 * parser rejects several comma-separated hosts, so the Sentinel and Cluster forms are parsed here.
 */
function splitMultiHostUrl(url: string): { username?: string; password?: string; hosts: string; path: string; query: URLSearchParams } {
  const match = /^[a-z-]+:\/\/(?:([^@/]*)@)?([^/?]+)(\/[^?]*)?(?:\?(.*))?$/.exec(url);
  if (!match) throw new RedisUrlError(`REDIS_URL is not a valid URL: ${redactRedisUrl(url)}`);
  const [user, password] = (match[1] ?? '').split(':', 2).map((part) => (part === undefined || part === '' ? undefined : decodeURIComponent(part)));
  return { username: user, password, hosts: match[2]!, path: match[3] ?? '', query: new URLSearchParams(match[4] ?? '') };
}

/**
 * Parses REDIS_URL:
 * - `redis://[user:password@]host:port[/db]` and `rediss://…` (TLS) for one server;
 * - `redis-sentinel://[user:password@]host1:26379,host2:26379/PRIMARY_NAME[?db=N&tls=true&sentinelPassword=…]`,
 *   where the credentials are the data nodes' and `sentinelPassword` the Sentinels';
 * - `redis-cluster://[user:password@]host1:6379,host2:6379[?tls=true]` for a Redis Cluster.
 */
export function parseRedisUrl(url: string): RedisTarget {
  if (/^rediss?:\/\//.test(url)) return { kind: 'standalone', url, options: {} };

  if (url.startsWith('redis-sentinel://')) {
    const parts = splitMultiHostUrl(url);
    const name = decodeURIComponent(parts.path.replace(/^\//, ''));
    if (name === '') throw new RedisUrlError('REDIS_URL for Sentinel must name the primary group: redis-sentinel://HOST:26379,HOST:26379/mymaster');
    const db = parts.query.get('db');
    if (db !== null && !/^\d+$/.test(db)) throw new RedisUrlError('REDIS_URL db must be a whole number');
    const tls = parts.query.get('tls') === 'true';
    return {
      kind: 'sentinel',
      options: {
        sentinels: hostList(parts.hosts, DEFAULT_SENTINEL_PORT, url),
        name,
        username: parts.username,
        password: parts.password,
        sentinelPassword: parts.query.get('sentinelPassword') ?? undefined,
        db: db === null ? undefined : Number(db),
        ...(tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
      },
    };
  }

  if (url.startsWith('redis-cluster://')) {
    const parts = splitMultiHostUrl(url);
    const tls = parts.query.get('tls') === 'true';
    return {
      kind: 'cluster',
      nodes: hostList(parts.hosts, DEFAULT_REDIS_PORT, url),
      options: { redisOptions: { username: parts.username, password: parts.password, ...(tls ? { tls: {} } : {}) } },
    };
  }

  throw new RedisUrlError(`REDIS_URL must start with redis://, rediss://, redis-sentinel:// or redis-cluster://, got ${redactRedisUrl(url)}`);
}

/** Returns the URL with its password replaced, for logs and error messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^([a-z-]+:\/\/[^:@/]*:)[^@/]*@/, '$1***@').replace(/(sentinelPassword=)[^&]*/, '$1***');
}
