import { endGracePeriod, generateSecret, listSecrets } from '../../src/domain/secrets.js';
import { listAuditEvents } from '../../src/storage/audit.js';
import { listValidSecrets } from '../../src/storage/secrets.js';
import { requestToken, setUpDemo } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';

const actor = { id: 'user:admin' };
let server: TestServer;
let demo: Awaited<ReturnType<typeof setUpDemo>>;

beforeEach(async () => {
  server = await startServer();
  demo = await setUpDemo(server);
});

afterEach(async () => {
  await server.stop();
});

const token = (secret: string) => requestToken(server, demo.app1.client_id, secret, { tenant: '15' });

describe('secret rotation', () => {
  test('old secret works within the grace period and fails after it', async () => {
    const rotated = await generateSecret(server.tg.domain, actor, demo.network.id, demo.app1.connection_id, { graceSeconds: 3600 });
    expect(rotated.clientId).toBe(demo.app1.client_id);
    expect(rotated.previousExpiresAt).not.toBeNull();

    expect((await token(rotated.clientSecret)).status).toBe(200);
    expect((await token(demo.app1.client_secret)).status).toBe(200);

    server.clock.advance(3599);
    expect((await token(demo.app1.client_secret)).status).toBe(200);

    server.clock.advance(2);
    const expired = await token(demo.app1.client_secret);
    expect(expired.status).toBe(401);
    expect(expired.body.error).toBe('invalid_client');
    expect((await token(rotated.clientSecret)).status).toBe(200);
  });

  test('the default grace period is SECRET_GRACE_PERIOD (86400 s)', async () => {
    await generateSecret(server.tg.domain, actor, demo.network.id, demo.app1.connection_id);
    server.clock.advance(86_399);
    expect((await token(demo.app1.client_secret)).status).toBe(200);
    server.clock.advance(2);
    expect((await token(demo.app1.client_secret)).status).toBe(401);
  });

  test('ending the grace period takes effect on the next request', async () => {
    const rotated = await generateSecret(server.tg.domain, actor, demo.network.id, demo.app1.connection_id, { graceSeconds: 3600 });
    expect((await token(demo.app1.client_secret)).status).toBe(200);
    const revoked = await endGracePeriod(server.tg.domain, actor, demo.network.id, demo.app1.connection_id);
    expect(revoked).toHaveLength(1);
    expect((await token(demo.app1.client_secret)).status).toBe(401);
    expect((await token(rotated.clientSecret)).status).toBe(200);
  });

  test('a grace period of 0 stops the old secret at once', async () => {
    const rotated = await generateSecret(server.tg.domain, actor, demo.network.id, demo.app1.connection_id, { graceSeconds: 0 });
    expect((await token(demo.app1.client_secret)).status).toBe(401);
    expect((await token(rotated.clientSecret)).status).toBe(200);
  });

  test.each([-1, 30 * 24 * 3600 + 1, 1.5])('a grace period of %s seconds is rejected', async (graceSeconds) => {
    await expect(generateSecret(server.tg.domain, actor, demo.network.id, demo.app1.connection_id, { graceSeconds })).rejects.toMatchObject({
      code: 'secret.invalid_grace',
      status: 400,
    });
  });

  test('a second rotation ends the first grace period: at most two secrets are valid', async () => {
    const first = await generateSecret(server.tg.domain, actor, demo.network.id, demo.app1.connection_id, { graceSeconds: 3600 });
    const second = await generateSecret(server.tg.domain, actor, demo.network.id, demo.app1.connection_id, { graceSeconds: 3600 });
    expect((await token(demo.app1.client_secret)).status).toBe(401);
    expect((await token(first.clientSecret)).status).toBe(200);
    expect((await token(second.clientSecret)).status).toBe(200);
    const valid = await listValidSecrets(server.tg.db, demo.network.id, demo.app1.connection_id, server.clock.now());
    expect(valid).toHaveLength(2);
  });

  test('20 concurrent rotations leave one current and one grace secret, audited in order', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => generateSecret(server.tg.domain, actor, demo.network.id, demo.app1.connection_id, { graceSeconds: 3600 })),
    );
    const valid = await listValidSecrets(server.tg.db, demo.network.id, demo.app1.connection_id, server.clock.now());
    expect(valid.filter((s) => s.expiresAt === null)).toHaveLength(1);
    expect(valid.filter((s) => s.expiresAt !== null)).toHaveLength(1);

    // Only the two valid ones are tried with success; one stale secret checks the refusal
    // (trying all 18 stale ones would trip the failed-authentication back-off).
    const byId = new Map(results.map((result) => [result.secretId, result.clientSecret]));
    for (const secret of valid) expect((await token(byId.get(secret.id)!)).status).toBe(200);
    const stale = results.find((result) => !valid.some((secret) => secret.id === result.secretId))!;
    expect((await token(stale.clientSecret)).status).toBe(401);

    const events = (await listAuditEvents(server.tg.db, demo.network.id, { action: 'secret.rotated', limit: 100 })).reverse();
    const rotations = events.filter((e) => e.targetId === demo.app1.connection_id);
    expect(rotations).toHaveLength(20);
    // Each rotation retires exactly the secret that the one before it created.
    for (let i = 1; i < rotations.length; i++) {
      expect(rotations[i]!.details.previous_secret_ids).toEqual([rotations[i - 1]!.details.secret_id]);
    }
    const all = await listSecrets(server.tg.db, demo.network.id, demo.app1.connection_id);
    expect(all).toHaveLength(21);
  });

  test('last used is recorded in batches for the secret that authenticated', async () => {
    const before = await listSecrets(server.tg.db, demo.network.id, demo.app1.connection_id);
    expect(before[0]!.lastUsedAt).toBeNull();
    expect((await token(demo.app1.client_secret)).status).toBe(200);
    await server.tg.flushBackgroundWork();
    const after = await listSecrets(server.tg.db, demo.network.id, demo.app1.connection_id);
    expect(after[0]!.lastUsedAt).not.toBeNull();
    expect(after[0]!.lastUsedAt!).toBeGreaterThan(Date.now() - 60_000);
  });

  test('no secret, hash or token appears in any audit event or log line', async () => {
    const rotated = await generateSecret(server.tg.domain, actor, demo.network.id, demo.app1.connection_id, { graceSeconds: 60 });
    const issued = await token(rotated.clientSecret);
    const events = JSON.stringify(await listAuditEvents(server.tg.db, demo.network.id, { limit: 1000 }));
    const hashes = (await server.tg.db('client_secrets').select('secret_hash')) as { secret_hash: string }[];
    for (const text of [events, server.logs.text]) {
      expect(text).not.toContain(rotated.clientSecret);
      expect(text).not.toContain(demo.app1.client_secret);
      expect(text).not.toContain(issued.body.access_token as string);
      for (const row of hashes) expect(text).not.toContain(row.secret_hash);
    }
  });
});
