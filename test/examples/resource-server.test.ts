import type { Server } from 'node:http';

import { startResourceServer } from '../../examples/resource-server/server.js';
import { requestToken, setUpDemo } from '../support/oauth.js';
import { freePort, startServer, type TestServer } from '../support/server.js';

let server: TestServer;
let demo: Awaited<ReturnType<typeof setUpDemo>>;
let api: Server;
let apiUrl: string;
let apiClockOffsetMs = 0;

beforeAll(async () => {
  server = await startServer();
  demo = await setUpDemo(server);
  const port = await freePort();
  api = await startResourceServer({ issuer: server.url, audience: demo.api.audience, now: () => new Date(Date.now() + apiClockOffsetMs) }, port);
  apiUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await new Promise((resolve) => api.close(resolve));
  await server.stop();
});

async function token(tenant: string, scope?: string): Promise<string> {
  const response = await requestToken(server, demo.app1.client_id, demo.app1.client_secret, scope ? { tenant, scope } : { tenant });
  expect(response.status).toBe(200);
  return response.body.access_token as string;
}

const get = (path: string, bearer?: string) => fetch(`${apiUrl}${path}`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });

describe('example resource server', () => {
  test('GET /tenants/15/jobs with a token for tenant 15 → 200', async () => {
    const response = await get('/tenants/15/jobs', await token('15'));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { tenant: string }).tenant).toBe('15');
  });

  test('a token for tenant 1 on /tenants/15 → 403', async () => {
    const response = await get('/tenants/15/jobs', await token('1'));
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toContain('insufficient_scope');
  });

  test('a token without jobs:read → 403', async () => {
    const response = await get('/tenants/15/jobs', await token('15', 'customers:read'));
    expect(response.status).toBe(403);
  });

  test('no token, a tampered token, an expired one → 401', async () => {
    expect((await get('/tenants/15/jobs')).status).toBe(401);
    const valid = await token('15');
    const [header, payload, signature] = valid.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), tenant: '25' })).toString('base64url');
    expect((await get('/tenants/25/jobs', `${header}.${forged}.${signature}`)).status).toBe(401);

    const soonExpired = await token('15');
    apiClockOffsetMs = 901_000;
    try {
      const expired = await get('/tenants/15/jobs', soonExpired);
      expect(expired.status).toBe(401);
      expect(expired.headers.get('www-authenticate')).toContain('expired');
    } finally {
      apiClockOffsetMs = 0;
    }
  });
});
