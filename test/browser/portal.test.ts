import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { chromium, type Browser, type Page } from 'playwright-core';

import { createRole, createUser, redeemSignInLink } from '../../src/domain/accounts.js';
import { setOpenSignUp } from '../../src/domain/developers.js';
import { createGroup } from '../../src/domain/groups.js';
import { signInLinkToken } from '../portal/page-client.js';
import { setUpDemo } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test', 'artifacts');
const PASSWORD = 'correct horse battery staple';
const operator = { id: 'test-operator' };

let server: TestServer;
let browser: Browser;
let demo: Awaited<ReturnType<typeof setUpDemo>>;

async function launch(): Promise<Browser> {
  try {
    return await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  } catch (err) {
    // A missing browser fails the test, under CI and elsewhere, with the package to install.
    throw new Error(`Chromium could not start from ${CHROMIUM} (install the Debian chromium package): ${(err as Error).message}`);
  }
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `portal-${name}.png`), fullPage: true });
}

/** Creates a hub administrator with both API & Integrations permissions and signs it in through /signin. */
async function hubAdmin(page: Page): Promise<void> {
  const role = await createRole(server.tg.domain, operator, demo.network.id, { name: 'Integrators', permissions: ['integrations.view', 'integrations.manage'] });
  const { link } = await createUser(server.tg.domain, operator, { networkId: demo.network.id, email: 'hub-admin@example.com', name: 'Hub Admin', roleIds: [role.id] });
  await redeemSignInLink(server.tg.domain, signInLinkToken(link.path), PASSWORD);

  await page.goto(`${server.url}/signin`);
  await page.getByLabel('E-mail').fill('hub-admin@example.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/hub/);
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer();
  demo = await setUpDemo(server);
  await setOpenSignUp(server.tg.domain, operator, true);
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

test('developer publishes an app, a hub connects it, the developer sees the tenants', async () => {
  const developerContext = await browser.newContext();
  developerContext.setDefaultTimeout(10_000);
  const developer = await developerContext.newPage();

  // Sign up through the portal.
  await developer.goto(`${server.url}/portal/signin`);
  await developer.getByRole('link', { name: 'Create a developer account' }).click();
  await developer.getByLabel('E-mail').fill('dev@example.com');
  await developer.getByLabel('Organisation name').fill('Route Planner Ltd');
  await developer.getByLabel('Password', { exact: false }).first().fill(PASSWORD);
  await developer.getByLabel('Repeat the password').fill(PASSWORD);
  await developer.getByRole('button', { name: 'Create account' }).click();
  await developer.waitForURL(`${server.url}/portal/apps`);
  await expectText(developer, 'Apps of Route Planner Ltd');

  // Create an app with two scopes and terms.
  await developer.getByRole('link', { name: 'Create app' }).click();
  await developer.getByLabel('Name', { exact: true }).fill('Route Planner');
  await developer.getByLabel('Description').fill('Plans the day’s routes from your jobs');
  await developer.getByLabel('Homepage URL').fill('https://routes.example.com');
  await developer.getByLabel('Logo URL').fill('https://routes.example.com/logo.png');
  await developer.locator('input[name="scope"][value$="|jobs:read"]').check();
  await developer.getByLabel('Why the app needs jobs:read').fill('Reads the jobs to plan each technician’s route.');
  await developer.locator('input[name="scope"][value$="|customers:read"]').check();
  await developer.getByLabel('Why the app needs customers:read').fill('Reads customer addresses to place the stops.');
  await developer.getByLabel('Terms and conditions').fill('Route Planner terms: we use job and address data only to plan routes.');
  await shot(developer, '1-create-app');
  await developer.getByRole('button', { name: 'Create app' }).click();
  await developer.waitForURL(/\/portal\/apps\/[0-9a-f-]{36}$/);
  const appUrl = developer.url();
  await expectText(developer, 'Route Planner was created.');

  await developer.getByRole('button', { name: 'Publish' }).click();
  await expectText(developer, 'Route Planner is published; hubs can connect it now.');
  await shot(developer, '2-published');

  // A hub administrator connects it to a group through Connect New App.
  const group = await createGroup(server.tg.domain, operator, demo.network.id, { name: 'North Depots', tenantIds: ['7', '21', '34'] });
  const adminContext = await browser.newContext();
  adminContext.setDefaultTimeout(10_000);
  const admin = await adminContext.newPage();
  await hubAdmin(admin);
  await admin.goto(`${server.url}/hub/integrations/groups/${group.id}/connect`);
  await admin.getByLabel(/Route Planner/).check();
  await admin.getByRole('button', { name: 'Continue' }).click();
  await expectText(admin, 'Route Planner terms: we use job and address data only to plan routes.');
  await admin.getByRole('button', { name: 'Accept' }).click();
  await admin.getByRole('button', { name: 'Connect' }).click();
  await expectText(admin, 'Reads customer addresses to place the stops.');
  await shot(admin, '3-allow-access');
  await admin.getByRole('button', { name: 'Allow Access' }).click();
  await admin.waitForURL(/\/connected$/);

  // The developer sees the connection, its group and its tenant IDs.
  await developer.goto(`${appUrl}/connections`);
  const table = developer.locator('table');
  await expectText(developer, demo.network.name);
  await expectText(developer, 'North Depots');
  for (const tenant of ['7', '21', '34']) await table.locator('code', { hasText: new RegExp(`^${tenant}$`) }).waitFor();
  expect(await table.locator('.badge').innerText()).toBe('active');
  await shot(developer, '4-connections');

  await developerContext.close();
  await adminContext.close();
}, 120_000);

async function expectText(page: Page, text: string): Promise<void> {
  await page.getByText(text, { exact: false }).first().waitFor({ timeout: 5000 });
}
