import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

import { createApi } from '../../src/domain/apis.js';
import { createApp } from '../../src/domain/apps.js';
import { createGroup } from '../../src/domain/groups.js';
import { listNetworks } from '../../src/domain/networks.js';
import { ensureFirstOperator } from '../../src/web/bootstrap.js';
import { requestToken } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test', 'artifacts');
const OPERATOR_PASSWORD = 'operator password 2026';
const ADMIN_PASSWORD = 'administrator password 2026';

// Without the browser the test is skipped on a workstation, but under CI=true it must fail.
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.CI === 'true') {
  throw new Error(`${CHROMIUM} is missing; install Debian's chromium (.ci/run does) to run the browser tests`);
}
/** Waits until the element is visible; fails the test after five seconds. */
const visible = (locator: Locator) => locator.first().waitFor({ state: 'visible', timeout: 5000 });

const describeBrowser = haveBrowser ? describe : describe.skip;

describeBrowser('hub in headless Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let adminPage: Page | undefined;
  const cspViolations: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startServer();
    const ctx = server.tg.domain;
    await createApi(ctx, { id: 'test' }, {
      audience: 'https://api.example.com',
      name: 'Field Service API',
      scopes: [
        { scope: 'jobs:read', description: 'Read jobs and their schedules' },
        { scope: 'customers:read', description: 'Read customer names and addresses' },
      ],
    });
    await createApp(ctx, { id: 'test' }, {
      name: 'App 1',
      developerName: 'Example Developer Ltd',
      description: 'Schedule and dispatch jobs',
      terms: 'App 1 terms and conditions, version 1.\nThe app processes tenant data only to provide its service.',
      scopes: [
        { scope: 'jobs:read', reason: 'to list the jobs it schedules' },
        { scope: 'customers:read', reason: 'to show customer addresses to technicians' },
      ],
      published: true,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ viewport, baseURL: server.url });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
    });
    return page;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `hub-${name}.png`), fullPage: true });

  test('operator sets up a network and the administrator connects App 1', async () => {
    // Operator: the first-operator link that `npm start` prints.
    const first = await ensureFirstOperator(server.tg.domain, server.url);
    expect(first).toBeDefined();
    const operator = await newPage();
    await operator.goto(first!.url);
    await operator.getByLabel('New password').fill(OPERATOR_PASSWORD);
    await operator.getByLabel('Repeat the password').fill(OPERATOR_PASSWORD);
    await operator.getByRole('button', { name: 'Save password and sign in' }).click();
    await visible(operator.getByRole('heading', { name: 'Networks' }));

    await operator.getByLabel('Customer name').fill('Good Plumbing Network');
    await operator.getByRole('button', { name: 'Create network' }).click();
    await visible(operator.getByRole('heading', { name: 'Good Plumbing Network' }));

    const tenants = Array.from({ length: 50 }, (_, i) => String(i + 1)).join('\n');
    await operator.getByLabel(/^Tenant IDs/).fill(`${tenants}\nbad/id`);
    await operator.getByRole('button', { name: 'Add tenants' }).click();
    await visible(operator.getByText('50 added, 0 already in this network, 1 rejected.'));
    await visible(operator.getByRole('cell', { name: 'bad/id' }));
    await shot(operator, 'operator-network');

    await operator.getByLabel("Administrator's e-mail").fill('admin@goodplumbing.example');
    await operator.getByLabel("Administrator's name").fill('Alex Admin');
    await operator.getByRole('button', { name: 'Create administrator' }).click();
    const adminLink = (await operator.locator('#link').textContent())!.trim();
    expect(adminLink).toContain('/signin/link/');
    await operator.reload();
    await visible(operator.getByText('This link was already shown'));

    // Administrator: choose a password, create a role with View + Manage and take it.
    const admin = await newPage();
    adminPage = admin;
    await admin.goto(adminLink);
    await admin.getByLabel('New password').fill(ADMIN_PASSWORD);
    await admin.getByLabel('Repeat the password').fill(ADMIN_PASSWORD);
    await admin.getByRole('button', { name: 'Save password and sign in' }).click();
    await visible(admin.getByRole('heading', { name: 'User Management' }));
    expect(await admin.getByRole('link', { name: 'API & Integrations' }).count()).toBe(0);

    await admin.getByRole('link', { name: 'Roles' }).click();
    await admin.getByRole('link', { name: 'New role' }).click();
    await admin.getByLabel('Role name').fill('Integrations');
    await admin.getByLabel('API & Integrations: View').check();
    await admin.getByLabel('API & Integrations: Manage').check();
    await shot(admin, 'role-form');
    await admin.getByRole('button', { name: 'Save role' }).click();
    await admin.getByRole('link', { name: 'Users' }).click();
    await admin.getByRole('link', { name: 'Alex Admin' }).click();
    await admin.getByLabel('Integrations').check();
    await admin.getByRole('button', { name: 'Save roles' }).click();
    await visible(admin.getByRole('link', { name: 'API & Integrations' }));

    // Group 1 with tenants 1, 2, 15 and 50, chosen in the searchable picker.
    await admin.getByRole('link', { name: 'API & Integrations' }).click();
    await admin.getByRole('link', { name: 'Create New Group' }).click();
    await admin.getByLabel('Group name').fill('Group 1');
    // Tenants 1-50 whose ID contains the search: "1" and "2" match 14 each.
    const matches: Record<string, string> = { '1': '14 matching tenants', '2': '14 matching tenants', '15': '1 matching tenant', '50': '1 matching tenant' };
    for (const [id, status] of Object.entries(matches)) {
      await admin.getByLabel('Search tenants').fill(id);
      await visible(admin.getByText(status, { exact: true }));
      const box = admin.locator('[data-picker-results]').getByRole('checkbox', { name: id, exact: true });
      await box.check();
    }
    expect(await admin.getByLabel(/^Tenant IDs/).inputValue()).toBe('1\n2\n15\n50');
    await shot(admin, 'group-form');
    await admin.getByRole('button', { name: 'Save' }).click();
    await visible(admin.getByRole('cell', { name: 'Group 1' }));
    await visible(admin.getByRole('row', { name: /Group 1 4 0/ }));
    await shot(admin, 'groups');

    // Connect New App → terms → Accept → Connect → Allow Access → Generate → Yes, Continue.
    await admin.getByText('More').click();
    await admin.getByRole('link', { name: 'Connect New App' }).click();
    await admin.getByLabel(/App 1/).check();
    await admin.getByRole('button', { name: 'Continue' }).click();
    await visible(admin.getByText('App 1 terms and conditions, version 1.'));
    await admin.getByRole('button', { name: 'Accept' }).click();
    await admin.getByRole('button', { name: 'Connect' }).click();
    await visible(admin.getByRole('heading', { name: 'Allow Access' }));
    await visible(admin.getByText('Read jobs and their schedules'));
    await visible(admin.getByText(/Good Plumbing Network is the resource owner of the data of all 4 tenants/));
    await shot(admin, 'allow-access');
    await admin.getByRole('button', { name: 'Allow Access' }).click();
    await visible(admin.getByRole('heading', { name: 'Access allowed' }));
    await admin.getByRole('button', { name: 'Generate' }).click();
    await admin.getByRole('button', { name: 'Yes, Continue' }).click();

    const clientId = (await admin.locator('#client-id').textContent())!.trim();
    const secret = (await admin.locator('#client-secret').textContent())!.trim();
    await visible(admin.getByRole('button', { name: 'Copy' }).first());
    await visible(admin.getByText('It will not be shown again'));
    await shot(admin, 'secret');

    // Neither a reload nor the back button shows the secret again.
    await admin.reload();
    expect(await admin.content()).not.toContain(secret);
    await admin.goBack();
    expect(await admin.content()).not.toContain(secret);
    await admin.goto('/hub/integrations');
    await admin.getByRole('link', { name: 'Group 1' }).click();
    await visible(admin.getByText(clientId));
    await shot(admin, 'connections');

    // Phone-sized screenshot of the groups list.
    const phone = await newPage({ width: 390, height: 844 });
    await phone.context().addCookies(await admin.context().cookies());
    await phone.goto('/hub/integrations');
    await shot(phone, 'groups-phone');

    expect((await requestToken(server, clientId, secret, { tenant: '15' })).status).toBe(200);
    const refused = await requestToken(server, clientId, secret, { tenant: '25' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_target');

    expect(server.logs.text).not.toContain(secret);
    expect(cspViolations).toEqual([]);
  }, 120_000);

  test('markup in group and app names stays inert', async () => {
    const admin = adminPage!;
    const payload = '<img src=x onerror="alert(1)"><script>alert(2)</script>';
    const [network] = await listNetworks(server.tg.domain.db);
    await createGroup(server.tg.domain, { id: 'test' }, network!.id, { name: `Group ${payload}`, tenantIds: ['3'] });
    await createApp(server.tg.domain, { id: 'test' }, {
      name: `App ${payload}`,
      developerName: `Developer ${payload}`,
      terms: payload,
      scopes: [{ scope: 'jobs:read', reason: payload }],
      published: true,
    });

    const dialogs: string[] = [];
    admin.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await admin.goto('/hub/integrations');
    await visible(admin.getByRole('cell', { name: `Group ${payload}` }));
    await admin.getByRole('row', { name: /Group <img/ }).getByText('More').click();
    await admin.getByRole('row', { name: /Group <img/ }).getByRole('link', { name: 'Connect New App' }).click();
    await visible(admin.getByText(`App ${payload}`));
    await shot(admin, 'escaped-names');

    expect(dialogs).toEqual([]);
    expect(await admin.locator('img[src="x"]').count()).toBe(0);
    expect(cspViolations).toEqual([]);
  }, 60_000);
});
