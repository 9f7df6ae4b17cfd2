import { randomUUID } from 'node:crypto';

import { listAppConnections } from '../../src/domain/app-connections.js';
import { requireAccessibleApp, setAppPublished, updateApp, type AppAccess } from '../../src/domain/app-updates.js';
import { createApp } from '../../src/domain/apps.js';
import { approveScopeUpdate, pendingScopeUpdate } from '../../src/domain/consent-updates.js';
import { connectApp, disconnectConnection } from '../../src/domain/connections.js';
import { DomainError } from '../../src/domain/errors.js';
import { createGroup } from '../../src/domain/groups.js';
import { createNetwork } from '../../src/domain/networks.js';
import { generateSecret } from '../../src/domain/secrets.js';
import { addTenants } from '../../src/domain/tenants.js';
import type { App } from '../../src/domain/types.js';
import { insertDeveloperOrg } from '../../src/storage/developers.js';
import { decodeJwtPart, requestToken, setUpDemo } from '../support/oauth.js';
import { startServer, type TestServer } from '../support/server.js';

const actor = { id: 'test' };
let server: TestServer;
let demo: Awaited<ReturnType<typeof setUpDemo>>;
let orgA: AppAccess;
let orgB: AppAccess;

async function newOrg(name: string): Promise<AppAccess> {
  const id = randomUUID();
  await insertDeveloperOrg(server.tg.db, { id, name, now: Date.now() });
  return { kind: 'org', orgId: id };
}

async function newApp(access: AppAccess, published: boolean, scopes = ['jobs:read']): Promise<App> {
  return createApp(server.tg.domain, actor, {
    name: `App ${randomUUID().slice(0, 8)}`,
    developerName: 'Example Developer Ltd',
    orgId: access.kind === 'org' ? access.orgId : null,
    terms: 'Terms, version 1.',
    scopes: scopes.map((scope) => ({ scope, audience: demo.api.audience, reason: `reads ${scope}` })),
    published,
  });
}

async function newGroup(tenants: string[]): Promise<string> {
  const group = await createGroup(server.tg.domain, actor, demo.network.id, { name: `Group ${randomUUID().slice(0, 8)}`, tenantIds: tenants });
  return group.id;
}

async function caught(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a DomainError');
}

function editInput(app: App, changes: Partial<{ terms: string; scopes: string[] }> = {}) {
  return {
    name: app.name,
    description: app.description,
    terms: changes.terms ?? 'Terms, version 1.',
    scopes: (changes.scopes ?? app.scopes.map((s) => s.scope)).map((scope) => ({ scope, audience: demo.api.audience, reason: `reads ${scope}` })),
    tokenTtl: app.tokenTtl,
  };
}

beforeAll(async () => {
  server = await startServer();
  demo = await setUpDemo(server);
  orgA = await newOrg('Org A');
  orgB = await newOrg('Org B');
});

afterAll(async () => {
  await server.stop();
});

describe('publishing', () => {
  test('connectApp rejects an unpublished app as not found', async () => {
    const app = await newApp(orgA, false);
    const err = await caught(
      connectApp(server.tg.domain, actor, demo.network.id, { groupId: await newGroup(['3']), appId: app.id, acceptedTermsVersion: 1, approvedBy: 'admin@example.com' }),
    );
    expect(err.status).toBe(404);
    expect(err.code).toBe('app.not_found');
  });

  test('unpublishing keeps an existing connection issuing tokens', async () => {
    const app = await newApp(orgA, true);
    const connection = await connectApp(server.tg.domain, actor, demo.network.id, {
      groupId: await newGroup(['4']),
      appId: app.id,
      acceptedTermsVersion: 1,
      approvedBy: 'admin@example.com',
    });
    const secret = await generateSecret(server.tg.domain, actor, demo.network.id, connection.id, {});

    const unpublished = await setAppPublished(server.tg.domain, actor, orgA, app.id, false);
    expect(unpublished.published).toBe(false);

    const response = await requestToken(server, connection.clientId, secret.clientSecret, { tenant: '4' });
    expect(response.status).toBe(200);
    const rejected = await caught(
      connectApp(server.tg.domain, actor, demo.network.id, { groupId: await newGroup(['5']), appId: app.id, acceptedTermsVersion: 1, approvedBy: 'admin@example.com' }),
    );
    expect(rejected.status).toBe(404);
  });
});

describe('organisation boundary', () => {
  test("another organisation's app is not found for every call", async () => {
    const app = await newApp(orgA, true);
    for (const call of [
      requireAccessibleApp(server.tg.domain, orgB, app.id),
      updateApp(server.tg.domain, actor, orgB, app.id, editInput(app, { terms: 'Changed by B.' })),
      setAppPublished(server.tg.domain, actor, orgB, app.id, false),
      listAppConnections(server.tg.domain, orgB, app.id),
    ]) {
      const err = await caught(call);
      expect(err.status).toBe(404);
      expect(err.code).toBe('app.not_found');
    }
    const unchanged = await requireAccessibleApp(server.tg.domain, orgA, app.id);
    expect(unchanged.termsVersion).toBe(1);
    expect(unchanged.published).toBe(true);
  });
});

describe('terms versions', () => {
  test('a terms change makes the next connection accept the new version', async () => {
    const app = await newApp(orgA, true);
    const same = await updateApp(server.tg.domain, actor, orgA, app.id, editInput(app));
    expect(same.termsChanged).toBe(false);
    expect(same.app.termsVersion).toBe(1);

    const changed = await updateApp(server.tg.domain, actor, orgA, app.id, editInput(app, { terms: 'Terms, version 2.' }));
    expect(changed.termsChanged).toBe(true);
    expect(changed.app.termsVersion).toBe(2);

    const groupId = await newGroup(['6']);
    const outdated = await caught(connectApp(server.tg.domain, actor, demo.network.id, { groupId, appId: app.id, acceptedTermsVersion: 1, approvedBy: 'admin@example.com' }));
    expect(outdated.status).toBe(409);
    expect(outdated.code).toBe('connection.terms_outdated');

    const connection = await connectApp(server.tg.domain, actor, demo.network.id, { groupId, appId: app.id, acceptedTermsVersion: 2, approvedBy: 'admin@example.com' });
    expect(connection.consent?.termsVersion).toBe(2);
  });
});

describe('scope update', () => {
  test('tokens keep the old scopes until re-consent and carry the new ones after', async () => {
    const app = await newApp(orgA, true, ['jobs:read']);
    const connection = await connectApp(server.tg.domain, actor, demo.network.id, {
      groupId: await newGroup(['7', '8']),
      appId: app.id,
      acceptedTermsVersion: 1,
      approvedBy: 'admin@example.com',
    });
    const { clientSecret } = await generateSecret(server.tg.domain, actor, demo.network.id, connection.id, {});
    expect(await pendingScopeUpdate(server.tg.domain, demo.network.id, connection.id)).toBeNull();

    const edited = await updateApp(server.tg.domain, actor, orgA, app.id, editInput(app, { scopes: ['jobs:read', 'invoices:read'] }));
    expect(edited.addedScopes).toEqual([`${demo.api.audience}|invoices:read`]);

    const pending = await pendingScopeUpdate(server.tg.domain, demo.network.id, connection.id);
    expect(pending?.added.map((s) => s.scope)).toEqual(['invoices:read']);
    expect(pending?.added[0]?.reason).toBe('reads invoices:read');
    expect(pending?.kept.map((s) => s.scope)).toEqual(['jobs:read']);

    const before = await requestToken(server, connection.clientId, clientSecret, { tenant: '7' });
    expect(before.status).toBe(200);
    expect(before.body.scope).toBe('jobs:read');
    expect(decodeJwtPart(before.body.access_token as string, 1).scope).toBe('jobs:read');
    const rejected = await requestToken(server, connection.clientId, clientSecret, { tenant: '7', scope: 'invoices:read' });
    expect(rejected.status).toBe(400);
    expect(rejected.body.error).toBe('invalid_scope');

    const updated = await approveScopeUpdate(server.tg.domain, actor, demo.network.id, connection.id, { approvedBy: 'admin@example.com', acceptedTermsVersion: 1 });
    expect(updated.consent?.scopes.map((s) => s.scope)).toEqual(['jobs:read', 'invoices:read']);
    expect(await pendingScopeUpdate(server.tg.domain, demo.network.id, connection.id)).toBeNull();

    const after = await requestToken(server, connection.clientId, clientSecret, { tenant: '8' });
    expect(after.status).toBe(200);
    expect(after.body.scope).toBe('jobs:read invoices:read');
    const only = await requestToken(server, connection.clientId, clientSecret, { tenant: '8', scope: 'invoices:read' });
    expect(only.status).toBe(200);
    expect(decodeJwtPart(only.body.access_token as string, 1).scope).toBe('invoices:read');
  });

  test('approval with outdated terms is rejected and changes nothing', async () => {
    const app = await newApp(orgA, true, ['jobs:read']);
    const connection = await connectApp(server.tg.domain, actor, demo.network.id, {
      groupId: await newGroup(['9']),
      appId: app.id,
      acceptedTermsVersion: 1,
      approvedBy: 'admin@example.com',
    });
    await updateApp(server.tg.domain, actor, orgA, app.id, editInput(app, { scopes: ['jobs:read', 'jobs:write'], terms: 'Terms, version 2.' }));

    const err = await caught(approveScopeUpdate(server.tg.domain, actor, demo.network.id, connection.id, { approvedBy: 'admin@example.com', acceptedTermsVersion: 1 }));
    expect(err.status).toBe(409);
    expect(err.code).toBe('connection.terms_outdated');
    expect((await pendingScopeUpdate(server.tg.domain, demo.network.id, connection.id))?.termsVersion).toBe(2);

    const approved = await approveScopeUpdate(server.tg.domain, actor, demo.network.id, connection.id, { approvedBy: 'admin@example.com', acceptedTermsVersion: 2 });
    expect(approved.consent?.termsVersion).toBe(2);
  });

  test('removed scope leaves the consent on approval', async () => {
    const app = await newApp(orgA, true, ['jobs:read', 'jobs:write']);
    const connection = await connectApp(server.tg.domain, actor, demo.network.id, {
      groupId: await newGroup(['10']),
      appId: app.id,
      acceptedTermsVersion: 1,
      approvedBy: 'admin@example.com',
    });
    await updateApp(server.tg.domain, actor, orgA, app.id, editInput(app, { scopes: ['jobs:read'] }));
    expect(await pendingScopeUpdate(server.tg.domain, demo.network.id, connection.id)).toBeNull();
    const none = await caught(approveScopeUpdate(server.tg.domain, actor, demo.network.id, connection.id, { approvedBy: 'admin@example.com', acceptedTermsVersion: 1 }));
    expect(none.status).toBe(409);
    expect(none.code).toBe('consent.no_update');

    await updateApp(server.tg.domain, actor, orgA, app.id, editInput(app, { scopes: ['jobs:read', 'customers:read'] }));
    const pending = await pendingScopeUpdate(server.tg.domain, demo.network.id, connection.id);
    expect(pending?.dropped.map((s) => s.scope)).toEqual(['jobs:write']);
    const approved = await approveScopeUpdate(server.tg.domain, actor, demo.network.id, connection.id, { approvedBy: 'admin@example.com', acceptedTermsVersion: 1 });
    expect(approved.consent?.scopes.map((s) => s.scope).sort()).toEqual(['customers:read', 'jobs:read']);
  });

  test('approval of a stale screen is rejected', async () => {
    const app = await newApp(orgA, true, ['jobs:read']);
    const connection = await connectApp(server.tg.domain, actor, demo.network.id, {
      groupId: await newGroup(['12']),
      appId: app.id,
      acceptedTermsVersion: 1,
      approvedBy: 'admin@example.com',
    });
    await updateApp(server.tg.domain, actor, orgA, app.id, editInput(app, { scopes: ['jobs:read', 'jobs:write'] }));
    const shown = (await pendingScopeUpdate(server.tg.domain, demo.network.id, connection.id))!.added.map((s) => `${s.audience}|${s.scope}`);
    await updateApp(server.tg.domain, actor, orgA, app.id, editInput(app, { scopes: ['jobs:read', 'jobs:write', 'invoices:read'] }));

    const err = await caught(
      approveScopeUpdate(server.tg.domain, actor, demo.network.id, connection.id, { approvedBy: 'admin@example.com', acceptedTermsVersion: 1, shownScopes: shown }),
    );
    expect(err.status).toBe(409);
    expect(err.code).toBe('consent.update_changed');
    const unchanged = await pendingScopeUpdate(server.tg.domain, demo.network.id, connection.id);
    expect(unchanged?.added.map((s) => s.scope).sort()).toEqual(['invoices:read', 'jobs:write']);

    const fresh = unchanged!.added.map((s) => `${s.audience}|${s.scope}`);
    const approved = await approveScopeUpdate(server.tg.domain, actor, demo.network.id, connection.id, { approvedBy: 'admin@example.com', acceptedTermsVersion: 1, shownScopes: fresh });
    expect(approved.consent?.scopes.map((s) => s.scope).sort()).toEqual(['invoices:read', 'jobs:read', 'jobs:write']);
  });

  test('another network cannot read or approve the update', async () => {
    const other = await createNetwork(server.tg.domain, actor, { name: `Other ${randomUUID().slice(0, 8)}` });
    const app = await newApp(orgA, true, ['jobs:read']);
    const connection = await connectApp(server.tg.domain, actor, demo.network.id, {
      groupId: await newGroup(['11']),
      appId: app.id,
      acceptedTermsVersion: 1,
      approvedBy: 'admin@example.com',
    });
    await updateApp(server.tg.domain, actor, orgA, app.id, editInput(app, { scopes: ['jobs:read', 'jobs:write'] }));

    expect((await caught(pendingScopeUpdate(server.tg.domain, other.id, connection.id))).status).toBe(404);
    const err = await caught(approveScopeUpdate(server.tg.domain, actor, other.id, connection.id, { approvedBy: 'x@example.com', acceptedTermsVersion: 1 }));
    expect(err.status).toBe(404);
    expect((await pendingScopeUpdate(server.tg.domain, demo.network.id, connection.id))?.added.map((s) => s.scope)).toEqual(['jobs:write']);
  });
});

describe('listAppConnections', () => {
  test('lists networks, groups, tenant IDs, status and consent time, and nothing else', async () => {
    const app = await newApp(orgA, true, ['jobs:read']);
    const other = await createNetwork(server.tg.domain, actor, { name: 'Zeta Network' });
    await addTenants(server.tg.domain, actor, other.id, ['zeta-1', 'zeta-2']);
    const zetaGroup = await createGroup(server.tg.domain, actor, other.id, { name: 'Zeta Group', tenantIds: ['zeta-2', 'zeta-1'] });

    server.clock.advance(10);
    const first = await connectApp(server.tg.domain, actor, demo.network.id, { groupId: await newGroup(['12', '13']), appId: app.id, acceptedTermsVersion: 1, approvedBy: 'admin@example.com' });
    await connectApp(server.tg.domain, actor, other.id, { groupId: zetaGroup.id, appId: app.id, acceptedTermsVersion: 1, approvedBy: 'zeta@example.com' });
    const cut = await connectApp(server.tg.domain, actor, demo.network.id, { groupId: await newGroup(['14']), appId: app.id, acceptedTermsVersion: 1, approvedBy: 'admin@example.com' });
    await disconnectConnection(server.tg.domain, actor, demo.network.id, cut.id);

    const views = await listAppConnections(server.tg.domain, orgA, app.id);
    expect(views.map((v) => [v.networkName, v.tenantIds, v.status])).toEqual([
      [demo.network.name, ['12', '13'], 'active'],
      [demo.network.name, [], 'disconnected'],
      ['Zeta Network', ['zeta-1', 'zeta-2'], 'active'],
    ]);
    expect(views[0]?.consentedAt).toBe(first.consent?.approvedAt);
    for (const view of views) expect(Object.keys(view).sort()).toEqual(['consentedAt', 'groupName', 'networkName', 'status', 'tenantIds']);
    const text = JSON.stringify(views);
    expect(text).not.toContain(first.clientId);
    expect(text).not.toContain('admin@example.com');
    expect(text).not.toContain(demo.network.id);
  });
});
