import { createGroup } from '../../src/domain/groups.js';
import { startServer, type TestServer } from '../support/server.js';
import { createNetworkWithTenants, createSignedUpUser, PageClient } from './support.js';

let server: TestServer;
let client: PageClient;

beforeAll(async () => {
  server = await startServer();
  const networkId = await createNetworkWithTenants(server, 'Many Groups Network', ['g-1', 'g-2']);
  for (let i = 1; i <= 120; i++) {
    await createGroup(server.tg.domain, { id: 'test' }, networkId, { name: `Region ${String(i).padStart(3, '0')}`, tenantIds: i === 7 ? ['g-1', 'g-2'] : [] });
  }
  await createSignedUpUser(server, networkId, 'viewer@groups.example', ['integrations.view']);
  client = new PageClient(server.url);
  expect((await client.signIn('viewer@groups.example')).status).toBe(303);
});

afterAll(async () => server.stop());

const names = (html: string) => [...html.matchAll(/\/connections">(Region \d+)</g)].map((m) => m[1]);

describe('GET /hub/integrations', () => {
  test('shows the first 50 groups and a pager', async () => {
    const page = await client.get('/hub/integrations');
    expect(page.status).toBe(200);
    expect(names(page.text)).toHaveLength(50);
    expect(names(page.text)[0]).toBe('Region 001');
    expect(page.text).toContain('Page 1 of 3 (120 groups)');
  });

  test('the last page holds the rest', async () => {
    const page = await client.get('/hub/integrations?page=3');
    expect(names(page.text)).toHaveLength(20);
    expect(names(page.text).at(-1)).toBe('Region 120');
  });

  test('search filters by name, with counts', async () => {
    const page = await client.get('/hub/integrations?q=region%20007');
    expect(names(page.text)).toEqual(['Region 007']);
    expect(page.text).toMatch(/Region 007<\/a><\/td>\s*<td>2<\/td>/);
  });

  test('a page past the end or a junk page number still answers 200', async () => {
    expect((await client.get('/hub/integrations?page=99')).status).toBe(200);
    expect(names((await client.get('/hub/integrations?page=abc')).text)).toHaveLength(50);
  });
});
