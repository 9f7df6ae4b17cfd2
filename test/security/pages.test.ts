import { ADMINISTRATOR_ROLE, assignRoles, createNetworkAdmin, createRole, createUser, redeemSignInLink, reissueSignInLink } from '../../src/domain/accounts.js';
import { findAppByName } from '../../src/domain/apps.js';
import { createGroup } from '../../src/domain/groups.js';
import { listRoles } from '../../src/storage/users.js';
import { PageClient } from '../portal/page-client.js';
import { setUpDemo } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';

const actor = { id: 'security-test' };
const PASSWORD = 'correct horse battery staple';

let server: TestServer;
let demo: Awaited<ReturnType<typeof setUpDemo>>;
const email = 'admin@plumbing.example';

beforeAll(async () => {
  server = await startServer();
  demo = await setUpDemo(server);
  const { user, link } = await createNetworkAdmin(server.tg.domain, actor, demo.network.id, { email });
  await redeemSignInLink(server.tg.domain, linkToken(link.path), PASSWORD);
  const viewer = await createRole(server.tg.domain, actor, demo.network.id, { name: 'Integrations viewer', permissions: ['integrations.view'] });
  const administrator = (await listRoles(server.tg.domain.db, demo.network.id)).find((role) => role.name === ADMINISTRATOR_ROLE)!;
  await assignRoles(server.tg.domain, actor, demo.network.id, user.id, [administrator.id, viewer.id]);
  // Password hashing (scrypt) makes each redeem and sign-in slow on a busy machine.
}, 60_000);

afterAll(async () => {
  await server.stop();
});

/** Returns the one-time token at the end of a sign-in link path. */
function linkToken(path: string): string {
  const token = /[A-Za-z0-9_-]{43}$/.exec(path)?.[0];
  if (!token) throw new Error(`no token at the end of the sign-in link ${path}`);
  return token;
}

function cookieAttributes(response: Response, name: string): string | undefined {
  return response.headers.getSetCookie().find((cookie) => cookie.startsWith(`${name}=`));
}

describe('security headers', () => {
  test.each(['/signin', '/healthz', '/jwks', '/.well-known/openid-configuration', '/no-such-page'])('%s sends the baseline headers', async (path) => {
    const response = await fetch(`${server.url}${path}`, { redirect: 'manual' });
    expect(response.status).toBeLessThan(500);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  test('page CSP allows no inline or foreign script', async () => {
    const response = await fetch(`${server.url}/signin`);
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).not.toContain('unsafe-eval');
    expect(policy).toContain("base-uri 'none'");
    expect(policy).toContain("form-action 'self'");
  });

  test('API responses forbid every resource', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});

describe('CSRF on state changes', () => {
  test('sign-in without a token is 403', async () => {
    const browser = new PageClient(server.url);
    await browser.get('/signin');
    const response = await browser.post('/signin', { email, password: PASSWORD });
    expect(response.status).toBe(403);
    expect(browser.cookies.has('tg_session')).toBe(false);
  });

  test('sign-in with a forged token is 403', async () => {
    const browser = new PageClient(server.url);
    await browser.get('/signin');
    const response = await browser.post('/signin', { _csrf: 'A'.repeat(43), email, password: PASSWORD });
    expect(response.status).toBe(403);
  });

  test('token from another browser is 403', async () => {
    const attacker = new PageClient(server.url);
    const token = await attacker.csrfFrom('/signin');
    const victim = new PageClient(server.url);
    await victim.get('/signin');
    const response = await victim.post('/signin', { _csrf: token, email, password: PASSWORD });
    expect(response.status).toBe(403);
  });

  test('sign-out without a token is 403', async () => {
    const browser = new PageClient(server.url);
    const signedIn = await browser.submit('/signin', '/signin', { email, password: PASSWORD });
    expect(signedIn.status).toBe(303);
    const response = await browser.post('/signout', {});
    expect(response.status).toBe(403);
    expect(browser.cookies.has('tg_session')).toBe(true);
  });
});

describe('CSRF on every page form', () => {
  const operatorEmail = 'operator@tenantgate.example';
  let admin: PageClient;
  let operator: PageClient;
  let groupId: string;
  let appId: string;

  beforeAll(async () => {
    const managers = await createRole(server.tg.domain, actor, demo.network.id, { name: 'Integrations manager', permissions: ['integrations.view', 'integrations.manage'] });
    const { user } = await createNetworkAdmin(server.tg.domain, actor, demo.network.id, { email: 'manager@plumbing.example' });
    const administrator = (await listRoles(server.tg.domain.db, demo.network.id)).find((role) => role.name === ADMINISTRATOR_ROLE)!;
    await assignRoles(server.tg.domain, actor, demo.network.id, user.id, [administrator.id, managers.id]);
    const managerLink = await reissueSignInLink(server.tg.domain, actor, demo.network.id, user.id);
    await redeemSignInLink(server.tg.domain, linkToken(managerLink.path), PASSWORD);
    admin = new PageClient(server.url);
    expect((await admin.submit('/signin', '/signin', { email: 'manager@plumbing.example', password: PASSWORD })).status).toBe(303);

    const { link } = await createUser(server.tg.domain, actor, { networkId: null, email: operatorEmail });
    await redeemSignInLink(server.tg.domain, linkToken(link.path), PASSWORD);
    operator = new PageClient(server.url);
    expect((await operator.submit('/signin', '/signin', { email: operatorEmail, password: PASSWORD })).status).toBe(303);

    groupId = (await createGroup(server.tg.domain, actor, demo.network.id, { name: 'CSRF target', tenantIds: ['3'] })).id;
    appId = (await findAppByName(server.tg.domain.db, demo.app1.app))!.id;
  }, 60_000);

  test('hub forms without a token are 403 and change nothing', async () => {
    const connection = demo.app1.connection_id;
    const paths = [
      '/hub/integrations/groups',
      `/hub/integrations/groups/${groupId}/edit`,
      `/hub/integrations/groups/${groupId}/delete`,
      `/hub/integrations/groups/${groupId}/connect`,
      `/hub/integrations/groups/${groupId}/connect/${appId}`,
      `/hub/integrations/groups/${groupId}/connect/${appId}/terms`,
      `/hub/integrations/groups/${groupId}/connect/${appId}/allow`,
      `/hub/integrations/connections/${connection}/disable`,
      `/hub/integrations/connections/${connection}/disconnect`,
      `/hub/integrations/connections/${connection}/end-grace`,
      `/hub/integrations/connections/${connection}/generate`,
      `/hub/integrations/connections/${connection}/update`,
      '/hub/users',
      '/hub/roles',
    ];
    for (const path of paths) {
      const response = await admin.post(path, { name: 'forged', tenants: '1', email: 'forged@evil.example' });
      expect(`${path} ${response.status}`).toBe(`${path} 403`);
    }

    // The forged delete and disconnect changed nothing: the group is there and the pair works.
    expect((await admin.get(`/hub/integrations/groups/${groupId}/connections`)).status).toBe(200);
    const token = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${demo.app1.client_id}:${demo.app1.client_secret}`).toString('base64')}` },
      body: 'grant_type=client_credentials&tenant=1',
    });
    expect(token.status).toBe(200);
  });

  test('operator forms without a token are 403', async () => {
    for (const path of ['/operator/networks', `/operator/networks/${demo.network.id}/rename`, `/operator/networks/${demo.network.id}/tenants`, `/operator/networks/${demo.network.id}/admins`, '/operator/apis']) {
      const response = await operator.post(path, { name: 'forged', tenants: 'forged-1', email: 'forged@evil.example' });
      expect(`${path} ${response.status}`).toBe(`${path} 403`);
    }
  });

  test('session cookie does not authenticate the JSON API', async () => {
    const cookie = [...admin.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(`${server.url}/api/v1/groups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ name: 'forged through the API', tenant_ids: ['1'] }),
    });
    expect(response.status).toBe(401);
  });
});

describe('sign-in return path', () => {
  test.each([
    '//evil.example/',
    'https://evil.example/',
    '/\\evil.example',
    '\\\\evil.example',
    'javascript:alert(1)',
    '/%0d%0aSet-Cookie:x=1',
    ' //evil.example',
  ])('next=%s stays on this site', async (next) => {
    const browser = new PageClient(server.url);
    const response = await browser.submit('/signin', '/signin', { email, password: PASSWORD, next });
    expect(response.status).toBe(303);
    const location = response.location ?? '';
    expect(location.startsWith('/')).toBe(true);
    expect(location.startsWith('//')).toBe(false);
    expect(location.startsWith('/\\')).toBe(false);
    expect(location).not.toContain('evil.example');
  });

  test('local next path is honoured', async () => {
    const browser = new PageClient(server.url);
    const response = await browser.submit('/signin', '/signin', { email, password: PASSWORD, next: '/hub?tab=groups' });
    expect(response.location).toBe('/hub?tab=groups');
  });
});

describe('HTML escaping', () => {
  test('reflected e-mail is escaped', async () => {
    const browser = new PageClient(server.url);
    const hostile = '"><script>alert(1)</script>@x.example';
    const response = await browser.submit('/signin', '/signin', { email: hostile, password: 'wrong password 123' });
    expect(response.status).toBe(400);
    expect(response.html).not.toContain('<script>alert(1)</script>');
    expect(response.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  test('stored group name is escaped on hub pages', async () => {
    const hostile = `<img src=x onerror=alert(1)> & "quoted" 'single'`;
    const group = await createGroup(server.tg.domain, actor, demo.network.id, { name: hostile, tenantIds: ['1'] });
    const browser = new PageClient(server.url);
    const signedIn = await browser.submit('/signin', '/signin', { email, password: PASSWORD });
    expect(signedIn.status).toBe(303);

    for (const path of ['/hub/integrations', `/hub/integrations/groups/${group.id}/connections`]) {
      const page = await browser.get(path);
      expect(`${page.status} ${page.location ?? ''}`).toBe('200 ');
      expect(page.html).not.toContain('<img src=x');
      expect(page.html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot;');
    }
  });

  test('reflected next is escaped', async () => {
    const response = await fetch(`${server.url}/signin?next=${encodeURIComponent('/"><img src=x onerror=alert(1)>')}`);
    const html = await response.text();
    expect(html).not.toContain('<img src=x');
  });
});

describe('cookies', () => {
  test('session cookie is HttpOnly and SameSite', async () => {
    const browser = new PageClient(server.url);
    const token = await browser.csrfFrom('/signin');
    const response = await fetch(`${server.url}/signin`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
      body: new URLSearchParams({ _csrf: token, email, password: PASSWORD }).toString(),
    });
    const cookie = cookieAttributes(response, 'tg_session') ?? '';
    expect(cookie).toMatch(/;\s*httponly/i);
    expect(cookie).toMatch(/;\s*samesite=(lax|strict)/i);
    expect(cookie).not.toMatch(/;\s*secure/i);
  });

  test('CSRF cookie is HttpOnly and SameSite', async () => {
    const response = await fetch(`${server.url}/signin`);
    const cookie = cookieAttributes(response, 'tg_csrf') ?? '';
    expect(cookie).toMatch(/;\s*httponly/i);
    expect(cookie).toMatch(/;\s*samesite=strict/i);
  });
});

describe('behind TLS (https issuer, one trusted proxy)', () => {
  let tlsServer: TestServer;

  beforeAll(async () => {
    tlsServer = await startServer({ env: { ISSUER: 'https://auth.tenantgate.example', TRUST_PROXY: '1' } });
  });

  afterAll(async () => {
    await tlsServer.stop();
  });

  test('cookies are Secure with the __Host- prefix', async () => {
    const response = await fetch(`${tlsServer.url}/signin`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(response.status).toBe(200);
    const cookie = cookieAttributes(response, '__Host-tg_csrf') ?? '';
    expect(cookie).toMatch(/;\s*secure/i);
    expect(cookie).toMatch(/;\s*path=\//i);
    expect(cookie).not.toMatch(/;\s*domain=/i);
  });

  test('discovery issuer ignores forwarded host', async () => {
    const response = await fetch(`${tlsServer.url}/.well-known/oauth-authorization-server`, { headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' } });
    const document = (await response.json()) as Record<string, string>;
    expect(document.issuer).toBe('https://auth.tenantgate.example');
    expect(JSON.stringify(document)).not.toContain('evil.example');
  });
});

describe('forwarded headers with TRUST_PROXY=0', () => {
  test('redirects ignore X-Forwarded-Host and -Proto', async () => {
    const response = await fetch(`${server.url}/hub`, { redirect: 'manual', headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' } });
    expect(response.status).toBeGreaterThanOrEqual(300);
    expect(response.status).toBeLessThan(400);
    expect(response.headers.get('location') ?? '').not.toContain('evil.example');
  });

  test('cookies stay plain without a trusted proxy', async () => {
    const response = await fetch(`${server.url}/signin`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(cookieAttributes(response, 'tg_csrf')).toBeDefined();
    expect(cookieAttributes(response, '__Host-tg_csrf')).toBeUndefined();
  });
});
