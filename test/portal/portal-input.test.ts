import { DEMO_AUDIENCE } from '../../src/cli/demo.js';
import { setOpenSignUp } from '../../src/domain/developers.js';
import { setUpDemo } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';
import { errorBanner, PageClient } from './page-client.js';

const PASSWORD = 'correct horse battery staple';
let server: TestServer;
// The test tables are built when the module loads, before the demo exists, so they use its constant.
const audience = DEMO_AUDIENCE;
let developer: PageClient;

beforeAll(async () => {
  server = await startServer();
  await setUpDemo(server);
  await setOpenSignUp(server.tg.domain, { id: 'test' }, true);
  developer = new PageClient(server.url);
  await developer.submit('/portal/signup', '/portal/signup', { email: 'input@example.com', org_name: 'Input Ltd', password: PASSWORD, confirm: PASSWORD });
});

afterAll(async () => {
  await server.stop();
});

function fields(overrides: Record<string, string | string[]>): Record<string, string | string[]> {
  return {
    name: 'Input App',
    terms: 'Terms.',
    token_ttl: '900',
    scope: `${audience}|jobs:read`,
    [`reason:${audience}|jobs:read`]: 'Reads jobs.',
    ...overrides,
  };
}

describe('POST /portal/apps/new with bad input', () => {
  test.each([
    ['empty name', { name: '   ' }, 'app name must not be empty'],
    ['long name', { name: 'n'.repeat(201) }, 'app name must be at most 200 characters'],
    ['control character in name', { name: 'a\u0007b' }, 'app name must not contain control characters'],
    ['empty terms', { terms: '  ' }, 'an app needs terms and conditions'],
    ['long description', { description: 'd'.repeat(2001) }, 'description must be at most 2000 characters'],
    ['no scopes', { scope: [] }, 'an app must request at least one scope'],
    ['scope of no API', { scope: 'https://unknown.example.com|jobs:read' }, 'no API with audience "https://unknown.example.com" is registered'],
    ['scope not in the catalogue', { scope: `${audience}|jobs:delete` }, `API ${audience} has no scope "jobs:delete"`],
    ['scope repeated', { scope: [`${audience}|jobs:read`, `${audience}|jobs:read`] }, `scope "jobs:read" of ${audience} is requested twice`],
    ['long reason', { [`reason:${audience}|jobs:read`]: 'r'.repeat(501) }, 'the reason for jobs:read must be at most 500 characters'],
    ['lifetime not a number', { token_ttl: 'abc' }, 'access-token lifetime must be a whole number of seconds from 60 to 3600'],
    ['negative lifetime', { token_ttl: '-5' }, 'access-token lifetime must be a whole number of seconds from 60 to 3600'],
    ['lifetime below the minimum', { token_ttl: '59' }, 'access-token lifetime must be a whole number of seconds from 60 to 3600'],
    ['long homepage URL', { homepage_url: `https://example.com/${'p'.repeat(2000)}` }, 'homepage URL must be at most 2000 characters'],
    ['relative logo URL', { logo_url: '/logo.png' }, 'logo URL must be an absolute https:// URL'],
    ['data: logo URL', { logo_url: 'data:image/png;base64,AAAA' }, 'logo URL must use https://'],
  ])('%s answers 400 with a message', async (_case, overrides, message) => {
    const response = await developer.submit('/portal/apps/new', '/portal/apps/new', fields(overrides));
    expect(response.status).toBe(400);
    expect(errorBanner(response.html)).toBe(message);
  });

  test('empty lifetime takes the default', async () => {
    const response = await developer.submit('/portal/apps/new', '/portal/apps/new', fields({ name: 'Default TTL', token_ttl: '' }));
    expect(response.status).toBe(303);
    expect((await developer.get(response.location!)).html).toContain('900 seconds');
  });

  test('JSON body is rejected with 400', async () => {
    const token = await developer.csrfFrom('/portal/apps/new');
    const response = await fetch(`${server.url}/portal/apps/new`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/json', cookie: [...developer.cookies].map(([n, v]) => `${n}=${v}`).join('; ') },
      body: JSON.stringify({ _csrf: token, ...fields({}) }),
    });
    expect(response.status).toBe(400);
  });
});

describe('portal paths with odd IDs', () => {
  test.each(['/portal/apps/x', `/portal/apps/${'a'.repeat(500)}`, '/portal/apps/%27%3B--', '/portal/apps/%00', '/portal/invitation', '/portal/invitation?token=%00'])(
    'GET %s answers 404',
    async (path) => {
      expect((await developer.get(path)).status).toBe(404);
    },
  );

  test('unknown portal path answers 404', async () => {
    expect((await developer.get('/portal/nothing-here')).status).toBe(404);
  });
});
