import { createNetworkAdmin, createUser, redeemSignInLink } from '../../src/domain/accounts.js';
import { inviteDeveloper, isOpenSignUp, setOpenSignUp } from '../../src/domain/developers.js';
import { connectApp } from '../../src/domain/connections.js';
import { createGroup } from '../../src/domain/groups.js';
import { listApps } from '../../src/storage/apps.js';
import { setUpDemo } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';
import { errorBanner, PageClient, signInLinkToken } from './page-client.js';

const PASSWORD = 'correct horse battery staple';
const operator = { id: 'test-operator' };
let server: TestServer;
let demo: Awaited<ReturnType<typeof setUpDemo>>;
let audience: string;

async function signUp(email: string, orgName: string): Promise<PageClient> {
  const client = new PageClient(server.url);
  const response = await client.submit('/portal/signup', '/portal/signup', { email, org_name: orgName, password: PASSWORD, confirm: PASSWORD });
  expect(response.status).toBe(303);
  expect(response.location).toBe('/portal/apps');
  return client;
}

function appFields(name: string, overrides: Record<string, string | string[]> = {}): Record<string, string | string[]> {
  return {
    name,
    description: 'Schedules jobs',
    homepage_url: 'https://app.example.com',
    logo_url: 'https://app.example.com/logo.png',
    terms: `${name} terms, version 1.`,
    token_ttl: '900',
    scope: [`${audience}|jobs:read`, `${audience}|customers:read`],
    [`reason:${audience}|jobs:read`]: 'Shows your jobs on the dispatch board.',
    [`reason:${audience}|customers:read`]: 'Prints customer addresses on job sheets.',
    ...overrides,
  };
}

async function createAppAs(client: PageClient, name: string): Promise<string> {
  const response = await client.submit('/portal/apps/new', '/portal/apps/new', appFields(name));
  expect(response.status).toBe(303);
  const id = /^\/portal\/apps\/([0-9a-f-]{36})$/.exec(response.location ?? '')?.[1];
  expect(id).toBeDefined();
  return id!;
}

beforeAll(async () => {
  server = await startServer();
  demo = await setUpDemo(server);
  audience = demo.api.audience;
});

afterAll(async () => {
  await server.stop();
});

describe('sign-up', () => {
  test('closed sign-up answers 403 to the page and to a POST', async () => {
    await setOpenSignUp(server.tg.domain, operator, false);
    const client = new PageClient(server.url);
    expect((await client.get('/portal/signup')).status).toBe(403);
    const token = await client.csrfFrom('/portal/signin');
    const response = await client.post('/portal/signup', { _csrf: token, email: 'closed@example.com', org_name: 'Closed Ltd', password: PASSWORD, confirm: PASSWORD });
    expect(response.status).toBe(403);
    expect(response.html).toContain('Sign-up is by invitation only.');
  });

  test('open sign-up creates the account and signs in', async () => {
    await setOpenSignUp(server.tg.domain, operator, true);
    const client = await signUp('dev-a@example.com', 'Alpha Apps');
    const home = await client.get('/portal/apps');
    expect(home.status).toBe(200);
    expect(home.html).toContain('Apps of Alpha Apps');
  });

  test('short password is rejected on the form', async () => {
    const client = new PageClient(server.url);
    const response = await client.submit('/portal/signup', '/portal/signup', { email: 'short@example.com', org_name: 'Short Ltd', password: 'short', confirm: 'short' });
    expect(response.status).toBe(400);
    expect(errorBanner(response.html)).toBe('password must be at least 12 characters');
  });

  test('POST without CSRF token is rejected with 403', async () => {
    const client = new PageClient(server.url);
    const response = await client.post('/portal/signup', { email: 'forged@example.com', org_name: 'Forged Ltd', password: PASSWORD, confirm: PASSWORD });
    expect(response.status).toBe(403);
  });
});

describe('invitation', () => {
  test('link sets the password once and signs in', async () => {
    const invitation = await inviteDeveloper(server.tg.domain, operator, { email: 'invited@example.com', orgName: 'Invited Org' });
    const path = `/portal/invitation?token=${encodeURIComponent(invitation.token)}`;
    const client = new PageClient(server.url);
    const page = await client.get(path);
    expect(page.status).toBe(200);
    expect(page.html).toContain('invited@example.com');

    const accepted = await client.submit(path, '/portal/invitation', { token: invitation.token, password: PASSWORD, confirm: PASSWORD });
    expect(accepted.status).toBe(303);
    expect((await client.get('/portal/apps')).html).toContain('Apps of Invited Org');

    const again = await new PageClient(server.url).get(path);
    expect(again.status).toBe(404);
    expect(again.html).toContain('already used or expired');
  });
});

describe('sign-in', () => {
  test('wrong password, then lock after five failures', async () => {
    await signUp('locked@example.com', 'Locked Ltd');
    const client = new PageClient(server.url);
    for (let i = 0; i < 5; i += 1) {
      const response = await client.submit('/portal/signin', '/portal/signin', { email: 'locked@example.com', password: 'wrong password!!' });
      expect(response.status).toBe(400);
      expect(errorBanner(response.html)).toBe('The e-mail address or password is incorrect.');
    }
    const locked = await client.submit('/portal/signin', '/portal/signin', { email: 'locked@example.com', password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(errorBanner(locked.html)).toMatch(/^Too many failed sign-ins\. Try again in \d+ minutes?\.$/);
  });

  test('correct password returns to the requested portal page', async () => {
    await signUp('returning@example.com', 'Returning Ltd');
    const client = new PageClient(server.url);
    const response = await client.submit('/portal/signin?next=%2Fportal%2Fapps%2Fnew', '/portal/signin', {
      email: 'RETURNING@example.com',
      password: PASSWORD,
      next: '/portal/apps/new',
    });
    expect(response.status).toBe(303);
    expect(response.location).toBe('/portal/apps/new');
  });

  test('next pointing outside the portal is ignored', async () => {
    const client = new PageClient(server.url);
    const response = await client.submit('/portal/signin', '/portal/signin', { email: 'returning@example.com', password: PASSWORD, next: '//evil.example/' });
    expect(response.status).toBe(303);
    expect(response.location).toBe('/portal/apps');
  });
});

describe('session scope', () => {
  test('sessions do not cross areas', async () => {
    const developer = await signUp('scoped@example.com', 'Scoped Ltd');
    // The hub's sign-in page sends a signed-in hub user home; a developer session is no hub user.
    const hubSignIn = await developer.get('/signin');
    expect(hubSignIn.status).toBe(200);
    expect(hubSignIn.html).toContain('action="/signin"');

    const { link } = await createNetworkAdmin(server.tg.domain, operator, demo.network.id, { email: 'hub-admin@example.com' });
    await redeemSignInLink(server.tg.domain, signInLinkToken(link.path), PASSWORD);
    const admin = new PageClient(server.url);
    const signedIn = await admin.submit('/signin', '/signin', { email: 'hub-admin@example.com', password: PASSWORD });
    expect(signedIn.status).toBe(303);
    expect((await admin.get('/signin')).status).toBe(302);
    const portal = await admin.get('/portal/apps');
    expect(portal.status).toBe(303);
    expect(portal.location).toBe('/portal/signin?next=%2Fportal%2Fapps');
  });
});

describe('My Apps', () => {
  let alpha: PageClient;
  let beta: PageClient;
  let alphaApp: string;

  beforeAll(async () => {
    alpha = await signUp('alpha@example.com', 'Alpha Org');
    beta = await signUp('beta@example.com', 'Beta Org');
    alphaApp = await createAppAs(alpha, 'Dispatch Board');
  });

  test('created app shows scopes, reasons and terms, unpublished', async () => {
    const page = await alpha.get(`/portal/apps/${alphaApp}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Unpublished');
    expect(page.html).toContain('Shows your jobs on the dispatch board.');
    expect(page.html).toContain('Dispatch Board terms, version 1.');
    const [app] = (await listApps(server.tg.db)).filter((candidate) => candidate.id === alphaApp);
    expect(app?.developerName).toBe('Alpha Org');
    expect(app?.scopes.map((s) => s.scope)).toEqual(['customers:read', 'jobs:read']);
  });

  test.each([
    ['homepage_url', 'http://app.example.com', 'homepage URL must use https://'],
    ['homepage_url', 'https://127.0.0.1/', "homepage URL must not point at 127.0.0.1 (loopback address); use the app's public https:// address"],
    ['logo_url', 'https://[::ffff:192.168.0.10]/logo.png', "logo URL must not point at ::ffff:c0a8:a (private address); use the app's public https:// address"],
    ['logo_url', 'https://intranet.localhost/logo.png', "logo URL must not point at intranet.localhost (loopback host); use the app's public https:// address"],
    ['token_ttl', '7200', 'access-token lifetime must be a whole number of seconds from 60 to 3600'],
  ])('form rejects %s %s with a clear message', async (name, value, message) => {
    const response = await alpha.submit('/portal/apps/new', '/portal/apps/new', appFields('Rejected App', { [name]: value }));
    expect(response.status).toBe(400);
    expect(errorBanner(response.html)).toBe(message);
    expect(response.html).toContain('value="Rejected App"');
  });

  test('scope without a reason is rejected', async () => {
    const response = await alpha.submit('/portal/apps/new', '/portal/apps/new', appFields('No Reason', { [`reason:${audience}|jobs:read`]: ' ' }));
    expect(response.status).toBe(400);
    expect(errorBanner(response.html)).toBe('say why the app needs jobs:read; administrators see it on the Allow Access screen');
  });

  test("another organisation's app answers 404 and stays unchanged", async () => {
    expect((await beta.get(`/portal/apps/${alphaApp}`)).status).toBe(404);
    expect((await beta.get(`/portal/apps/${alphaApp}/edit`)).status).toBe(404);
    expect((await beta.get(`/portal/apps/${alphaApp}/connections`)).status).toBe(404);
    const token = await beta.csrfFrom('/portal/apps');
    expect((await beta.post(`/portal/apps/${alphaApp}/publish`, { _csrf: token })).status).toBe(404);
    expect((await beta.post(`/portal/apps/${alphaApp}/edit`, { _csrf: token, ...appFields('Taken Over') })).status).toBe(404);
    expect((await beta.get('/portal/apps')).html).not.toContain('Dispatch Board');

    const app = (await listApps(server.tg.db)).find((candidate) => candidate.id === alphaApp);
    expect(app?.name).toBe('Dispatch Board');
    expect(app?.published).toBe(false);
  });

  test('editing terms makes a new version; publish and unpublish', async () => {
    const edited = await alpha.submit(`/portal/apps/${alphaApp}/edit`, `/portal/apps/${alphaApp}/edit`, appFields('Dispatch Board', { terms: 'Dispatch Board terms, version 2.' }));
    expect(edited.status).toBe(303);
    const page = await alpha.get(`/portal/apps/${alphaApp}`);
    expect(page.html).toContain('The terms are now version 2; new connections accept this version.');
    expect(page.html).toContain('version 2');

    expect((await alpha.submit(`/portal/apps/${alphaApp}`, `/portal/apps/${alphaApp}/publish`, {})).status).toBe(303);
    expect((await listApps(server.tg.db, { publishedOnly: true })).some((a) => a.id === alphaApp)).toBe(true);
    expect((await alpha.submit(`/portal/apps/${alphaApp}`, `/portal/apps/${alphaApp}/unpublish`, {})).status).toBe(303);
    expect((await listApps(server.tg.db, { publishedOnly: true })).some((a) => a.id === alphaApp)).toBe(false);
  });

  test('View Connections lists tenant IDs and no client ID', async () => {
    const appId = await createAppAs(alpha, 'Connected Board');
    await alpha.submit(`/portal/apps/${appId}`, `/portal/apps/${appId}/publish`, {});
    const group = await createGroup(server.tg.domain, operator, demo.network.id, { name: 'Portal Group', tenantIds: ['3', '33'] });
    const connection = await connectApp(server.tg.domain, operator, demo.network.id, { groupId: group.id, appId, acceptedTermsVersion: 1, approvedBy: 'hub-admin@example.com' });

    const page = await alpha.get(`/portal/apps/${appId}/connections`);
    expect(page.status).toBe(200);
    expect(page.html).toContain(demo.network.name);
    expect(page.html).toContain('Portal Group');
    expect(page.html).toContain('<code>3</code>');
    expect(page.html).toContain('<code>33</code>');
    expect(page.html).not.toContain(connection.clientId);
    expect(page.html).not.toContain('hub-admin@example.com');
  });
});

describe('operator page for developers', () => {
  let op: PageClient;

  beforeAll(async () => {
    const { link } = await createUser(server.tg.domain, operator, { networkId: null, email: 'operator@example.com', name: 'Operator' });
    await redeemSignInLink(server.tg.domain, signInLinkToken(link.path), PASSWORD);
    op = new PageClient(server.url);
    expect((await op.submit('/signin', '/signin', { email: 'operator@example.com', password: PASSWORD })).status).toBe(303);
  });

  test('open sign-up switch changes the setting', async () => {
    expect((await op.submit('/operator/developers', '/operator/developers/sign-up', {})).status).toBe(303);
    expect(await isOpenSignUp(server.tg.domain)).toBe(false);
    expect((await new PageClient(server.url).get('/portal/signup')).status).toBe(403);

    expect((await op.submit('/operator/developers', '/operator/developers/sign-up', { open_sign_up: 'on' })).status).toBe(303);
    expect(await isOpenSignUp(server.tg.domain)).toBe(true);
  });

  test('invitation link is shown once and works', async () => {
    const created = await op.submit('/operator/developers', '/operator/developers/invitations', { email: 'op-invited@example.com', org_id: '', org_name: 'Operator Invited Ltd' });
    expect(created.status).toBe(303);
    expect(created.location).toBe('/operator/developers/invitation');

    const shown = await op.get('/operator/developers/invitation');
    const url = /<output id="link" class="mono">([^<]+)<\/output>/.exec(shown.html)?.[1]?.replace(/&amp;/g, '&');
    expect(url).toMatch(new RegExp(`^${server.url}/portal/invitation\\?token=tgi_`));
    const again = await op.get('/operator/developers/invitation');
    expect(again.html).not.toContain('/portal/invitation?token=');

    const path = url!.slice(server.url.length);
    const developer = new PageClient(server.url);
    const accepted = await developer.submit(path, '/portal/invitation', { token: new URL(url!).searchParams.get('token')!, password: PASSWORD, confirm: PASSWORD });
    expect(accepted.status).toBe(303);
    expect((await developer.get('/portal/apps')).html).toContain('Apps of Operator Invited Ltd');
  });

  test('developer session cannot open it', async () => {
    const developer = await signUp('not-operator@example.com', 'Not Operator Ltd');
    const page = await developer.get('/operator/developers');
    expect(page.status).toBe(303);
    expect(page.location).toMatch(/^\/signin/);
  });
});
