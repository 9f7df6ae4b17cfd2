import { createApi } from '../../src/domain/apis.js';
import { createApp } from '../../src/domain/apps.js';
import { connectApp } from '../../src/domain/connections.js';
import { createGroup } from '../../src/domain/groups.js';
import { generateSecret } from '../../src/domain/secrets.js';
import type { TestServer } from '../support/server.js';
import { createNetworkWithTenants, createSignedUpUser } from './support.js';

const SYSTEM = { id: 'test' };

export interface NetworkFixture {
  networkId: string;
  groupId: string;
  connectionId: string;
  clientId: string;
  clientSecret: string;
  admin: { id: string; email: string; roleId?: string };
}

export interface HubFixture {
  appId: string;
  a: NetworkFixture & {
    viewer: { id: string; email: string; roleId?: string };
    nobody: { id: string; email: string };
    usersOnly: { id: string; email: string; roleId?: string };
  };
  b: NetworkFixture;
}

async function networkWithConnection(server: TestServer, prefix: string, appId: string): Promise<NetworkFixture> {
  const ctx = server.tg.domain;
  const tenants = Array.from({ length: 20 }, (_, i) => `${prefix}${i + 1}`);
  const networkId = await createNetworkWithTenants(server, `Network ${prefix.toUpperCase()}`, tenants);
  const group = await createGroup(ctx, SYSTEM, networkId, { name: `Group ${prefix.toUpperCase()}`, tenantIds: tenants.slice(0, 4) });
  const connection = await connectApp(ctx, SYSTEM, networkId, { groupId: group.id, appId, acceptedTermsVersion: 1, approvedBy: 'fixture' });
  const secret = await generateSecret(ctx, SYSTEM, networkId, connection.id);
  const admin = await createSignedUpUser(server, networkId, `admin@${prefix}.example`, ['integrations.view', 'integrations.manage', 'users.manage']);
  return { networkId, groupId: group.id, connectionId: connection.id, clientId: secret.clientId, clientSecret: secret.clientSecret, admin };
}

/**
 * Two networks, A and B, each with a group connected to one app and an administrator holding
 * every permission; A also has a View-only user, a user without roles and a User Management
 * user.
 */
export async function createHubFixture(server: TestServer): Promise<HubFixture> {
  const ctx = server.tg.domain;
  await createApi(ctx, SYSTEM, {
    audience: 'https://api.example.com',
    name: 'Field Service API',
    scopes: [
      { scope: 'jobs:read', description: 'Read jobs' },
      { scope: 'jobs:write', description: 'Create and update jobs' },
    ],
  });
  const app = await createApp(ctx, SYSTEM, {
    name: 'App 1',
    developerName: 'Example Developer Ltd',
    terms: 'Terms of App 1.',
    scopes: [{ scope: 'jobs:read', reason: 'to show jobs' }],
    published: true,
  });
  const a = await networkWithConnection(server, 'a', app.id);
  const b = await networkWithConnection(server, 'b', app.id);
  const viewer = await createSignedUpUser(server, a.networkId, 'viewer@a.example', ['integrations.view']);
  const nobody = await createSignedUpUser(server, a.networkId, 'nobody@a.example', []);
  const usersOnly = await createSignedUpUser(server, a.networkId, 'users@a.example', ['users.manage']);
  return { appId: app.id, a: { ...a, viewer, nobody, usersOnly }, b };
}
