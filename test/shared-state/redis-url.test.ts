import { parseRedisUrl, redactRedisUrl, RedisUrlError } from '../../src/shared-state/redis-url.js';

describe('parseRedisUrl', () => {
  test('redis:// and rediss:// go to ioredis unchanged', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379/2')).toEqual({ kind: 'standalone', url: 'redis://127.0.0.1:6379/2', options: {} });
    expect(parseRedisUrl('rediss://user:pw@cache.internal:6380').kind).toBe('standalone');
  });

  test('redis-sentinel:// lists sentinels and the primary name', () => {
    const target = parseRedisUrl('redis-sentinel://:s3cret@10.0.0.1:26379,10.0.0.2,[::1]:26380/mymaster?db=3&sentinelPassword=sp');
    expect(target).toEqual({
      kind: 'sentinel',
      options: {
        sentinels: [
          { host: '10.0.0.1', port: 26379 },
          { host: '10.0.0.2', port: 26379 },
          { host: '::1', port: 26380 },
        ],
        name: 'mymaster',
        username: undefined,
        password: 's3cret',
        sentinelPassword: 'sp',
        db: 3,
      },
    });
  });

  test('redis-sentinel:// without a primary name is rejected', () => {
    expect(() => parseRedisUrl('redis-sentinel://10.0.0.1:26379')).toThrow(RedisUrlError);
    expect(() => parseRedisUrl('redis-sentinel://10.0.0.1:26379')).toThrow(/must name the primary group/);
  });

  test('redis-cluster:// lists the seed nodes', () => {
    const target = parseRedisUrl('redis-cluster://app:pw@node1:7000,node2:7001,node3?tls=true');
    expect(target.kind).toBe('cluster');
    if (target.kind !== 'cluster') return;
    expect(target.nodes).toEqual([
      { host: 'node1', port: 7000 },
      { host: 'node2', port: 7001 },
      { host: 'node3', port: 6379 },
    ]);
    expect(target.options.redisOptions).toEqual({ username: 'app', password: 'pw', tls: {} });
  });

  test('unknown scheme is rejected without echoing the password', () => {
    expect(() => parseRedisUrl('memcached://user:hunter2@host:11211')).toThrow(RedisUrlError);
    expect(() => parseRedisUrl('memcached://user:hunter2@host:11211')).not.toThrow(/hunter2/);
  });
});

describe('redactRedisUrl', () => {
  test('hides passwords of data nodes and sentinels', () => {
    expect(redactRedisUrl('redis://user:hunter2@host:6379')).toBe('redis://user:***@host:6379');
    expect(redactRedisUrl('redis-sentinel://:pw@a,b/m?sentinelPassword=sp&db=1')).toBe('redis-sentinel://:***@a,b/m?sentinelPassword=***&db=1');
    expect(redactRedisUrl('redis://host:6379')).toBe('redis://host:6379');
  });
});
