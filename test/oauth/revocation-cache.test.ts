import { RevocationList } from '../../src/oauth/revocation-list.js';
import type { Db } from '../../src/storage/db.js';
import { openScratchDb, type ScratchDb } from '../support/database.js';
import { basic, postForm, requestToken, setUpDemo } from '../support/oauth.js';
import { startServer, TestClock, type TestServer } from '../support/server.js';

const HOUR_MS = 3_600_000;

describe('RevocationList "not revoked" cache', () => {
  let scratch: ScratchDb;
  let db: Db;
  let reads: number;
  let onRead: () => void;
  const epochs = { revocationEpoch: 0 };
  let list: RevocationList;

  beforeEach(async () => {
    scratch = await openScratchDb();
    db = scratch.db;
    reads = 0;
    onRead = () => undefined;
    db.on('query', (query: { sql: string }) => {
      if (!query.sql.startsWith('select') || !query.sql.includes('revoked_tokens')) return;
      reads += 1;
      onRead();
    });
    epochs.revocationEpoch = 0;
    list = new RevocationList(db, new TestClock(), epochs);
  });

  afterEach(async () => {
    await scratch.close();
  });

  test('second check reads nothing', async () => {
    const expiresAt = Date.now() + HOUR_MS;
    expect(await list.isRevoked('jti-a', expiresAt)).toBe(false);
    expect(await list.isRevoked('jti-a', expiresAt)).toBe(false);
    expect(reads).toBe(1);
  });

  test('moved counter empties cache', async () => {
    const expiresAt = Date.now() + HOUR_MS;
    await list.isRevoked('jti-a', expiresAt);
    await db('revoked_tokens').insert({ jti: 'jti-a', client_id: 'c', expires_at: expiresAt, revoked_at: Date.now() });
    epochs.revocationEpoch += 1;

    expect(await list.isRevoked('jti-a', expiresAt)).toBe(true);
    expect(reads).toBe(2);
  });

  test('result read during counter move is not cached', async () => {
    const expiresAt = Date.now() + HOUR_MS;
    let concurrent: Promise<boolean> | undefined;
    // While this read runs, a revocation commits and another request checks under the new counter.
    onRead = () => {
      onRead = () => undefined;
      epochs.revocationEpoch += 1;
      concurrent = list.isRevoked('jti-b', expiresAt);
    };
    expect(await list.isRevoked('jti-a', expiresAt)).toBe(false);
    expect(await concurrent).toBe(false);
    expect(reads).toBe(2);

    expect(await list.isRevoked('jti-a', expiresAt)).toBe(false);
    expect(reads).toBe(3);
  });

  test('expired token is not cached', async () => {
    expect(await list.isRevoked('jti-a', Date.now() - 1)).toBe(false);
    expect(await list.isRevoked('jti-a', Date.now() - 1)).toBe(false);
    expect(reads).toBe(2);
  });
});

describe('introspection across two instances', () => {
  let a: TestServer;
  let b: TestServer;
  let demo: Awaited<ReturnType<typeof setUpDemo>>;
  let revokedReads: number;

  beforeAll(async () => {
    a = await startServer();
    demo = await setUpDemo(a);
    // B shares A's database and issuer and nothing else: with REDIS_URL set, each test server has
    // its own key prefix, so only the database can tell A about B's revocations.
    b = await startServer({ databaseUrl: a.databaseUrl, dataKey: a.dataKey, env: { ISSUER: a.env.ISSUER! } });
    revokedReads = 0;
    a.tg.db.on('query', (query: { sql: string }) => {
      if (query.sql.startsWith('select') && query.sql.includes('revoked_tokens')) revokedReads += 1;
    });
  });

  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  const auth = () => ({ authorization: basic(demo.app1.client_id, demo.app1.client_secret) });
  const mint = async (): Promise<string> => {
    const response = await requestToken(a, demo.app1.client_id, demo.app1.client_secret, { tenant: '15' });
    expect(response.status).toBe(200);
    return response.body.access_token as string;
  };
  const introspect = async (server: TestServer, token: string) => (await postForm(`${server.url}/token/introspection`, { token }, auth())).body;

  test('A reads the list once per token', async () => {
    const token = await mint();
    const before = revokedReads;
    for (let i = 0; i < 3; i += 1) expect((await introspect(a, token)).active).toBe(true);
    expect(revokedReads - before).toBe(1);
  });

  test('revoked on B is inactive on A', async () => {
    const token = await mint();
    expect((await introspect(a, token)).active).toBe(true);

    const revoked = await postForm(`${b.url}/token/revocation`, { token }, auth());
    expect(revoked.status).toBe(200);

    expect(await introspect(a, token)).toEqual({ active: false });
  });

  test('revocation on B empties A\'s cache', async () => {
    const activeToken = await mint();
    const other = await mint();
    expect((await introspect(a, activeToken)).active).toBe(true);
    const before = revokedReads;

    expect((await postForm(`${b.url}/token/revocation`, { token: other }, auth())).status).toBe(200);

    expect((await introspect(a, activeToken)).active).toBe(true);
    expect(revokedReads - before).toBe(1);
  });

  test('plain row insert reaches A', async () => {
    // What an instance of the previous release does during a rolling upgrade: a plain insert.
    const token = await mint();
    expect((await introspect(a, token)).active).toBe(true);
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;

    await b.tg.db('revoked_tokens').insert({ jti, client_id: demo.app1.client_id, expires_at: Date.now() + HOUR_MS, revoked_at: Date.now() });

    expect(await introspect(a, token)).toEqual({ active: false });
  });

  test('repeated revocation keeps the counter', async () => {
    const token = await mint();
    const counter = async () => Number((await a.tg.db('revocation_epoch').where('id', 1).first('value'))!.value);
    expect((await postForm(`${b.url}/token/revocation`, { token }, auth())).status).toBe(200);
    const once = await counter();

    expect((await postForm(`${b.url}/token/revocation`, { token }, auth())).status).toBe(200);
    expect(await counter()).toBe(once);
  });
});

describe('revocation write failure', () => {
  let server: TestServer;
  let demo: Awaited<ReturnType<typeof setUpDemo>>;

  beforeAll(async () => {
    server = await startServer();
    demo = await setUpDemo(server);
  });

  afterAll(async () => {
    await server?.stop();
  });

  test('answers 503 temporarily_unavailable', async () => {
    const minted = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, { tenant: '15' });
    const token = minted.body.access_token as string;
    const auth = { authorization: basic(demo.app1.client_id, demo.app1.client_secret) };
    await server.tg.db.schema.renameTable('revoked_tokens', 'revoked_tokens_away');
    try {
      const unavailable = await postForm(`${server.url}/token/revocation`, { token }, auth);
      expect(unavailable.status).toBe(503);
      expect(unavailable.headers.get('retry-after')).toBe('5');
      expect(unavailable.body.error).toBe('temporarily_unavailable');
    } finally {
      await server.tg.db.schema.renameTable('revoked_tokens_away', 'revoked_tokens');
    }
    // The token was not revoked, and the client can retry.
    expect((await postForm(`${server.url}/token/revocation`, { token }, auth)).status).toBe(200);
    expect((await postForm(`${server.url}/token/introspection`, { token }, auth)).body).toEqual({ active: false });
  });
});
