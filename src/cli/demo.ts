import type { DomainContext } from '../domain/context.js';
import { createApi, findApiByAudience } from '../domain/apis.js';
import { createApp, findAppByName } from '../domain/apps.js';
import { connectApp, listConnections } from '../domain/connections.js';
import { createGroup, listGroups } from '../domain/groups.js';
import { createNetwork } from '../domain/networks.js';
import { generateSecret } from '../domain/secrets.js';
import { addTenants } from '../domain/tenants.js';
import type { Actor, App } from '../domain/types.js';
import { findNetworkByName } from '../storage/networks.js';
import { groupTenantIds } from '../storage/groups.js';

export const DEMO_NETWORK = 'Good Plumbing Network';
export const DEMO_AUDIENCE = 'https://api.example.com';
const DEMO_SCOPES = [
  { scope: 'jobs:read', description: 'Read jobs and their schedules' },
  { scope: 'jobs:write', description: 'Create and update jobs' },
  { scope: 'customers:read', description: 'Read customer names and addresses' },
  { scope: 'invoices:read', description: 'Read invoices and payments' },
];

export interface DemoOutput {
  issuer: string;
  api: { audience: string; scopes: string[] };
  network: { id: string; name: string };
  connections: {
    connection_id: string;
    group_id: string;
    group: string;
    app: string;
    client_id: string;
    client_secret: string;
    tenants: string[];
  }[];
}

async function ensureApp(ctx: DomainContext, actor: Actor, name: string, scopes: string[], description: string): Promise<App> {
  const existing = await findAppByName(ctx.db, name);
  if (existing) return existing;
  return createApp(ctx, actor, {
    name,
    developerName: 'Example Developer Ltd',
    description,
    homepageUrl: 'https://developer.example.com',
    terms: `${name} terms and conditions, version 1. The app processes the data of the connected tenants only to provide its service.`,
    scopes: scopes.map((scope) => ({ scope, audience: DEMO_AUDIENCE, reason: `${name} needs ${scope} to ${description.toLowerCase()}` })),
    published: true,
  });
}

/**
 * Builds the example customer: tenants 1…50, Group 1 = {1, 2, 15, 50} connected to App 1 and
 * Group 2 = {1, 2, 25, 40} connected to App 2. Run again, it keeps what exists and issues fresh
 * secrets (ending the old ones at once), because a secret can never be shown a second time.
 */
export async function buildDemo(ctx: DomainContext, actor: Actor, issuer: string): Promise<DemoOutput> {
  if (!(await findApiByAudience(ctx.db, DEMO_AUDIENCE))) {
    await createApi(ctx, actor, { audience: DEMO_AUDIENCE, name: 'Field Service API', scopes: DEMO_SCOPES });
  }
  const app1 = await ensureApp(ctx, actor, 'App 1', ['jobs:read', 'jobs:write', 'customers:read'], 'Schedule and dispatch jobs');
  const app2 = await ensureApp(ctx, actor, 'App 2', ['invoices:read', 'customers:read'], 'Reconcile invoices with accounting');

  const network = (await findNetworkByName(ctx.db, DEMO_NETWORK)) ?? (await createNetwork(ctx, actor, { name: DEMO_NETWORK }));
  const tenantIds = Array.from({ length: 50 }, (_, i) => String(i + 1));
  const added = await addTenants(ctx, actor, network.id, tenantIds);
  if (added.rejected.length > 0) {
    throw new Error(`tenant IDs 1-50 are taken by another network: ${added.rejected.map((r) => r.tenantId).join(', ')}`);
  }

  const plan = [
    { group: 'Group 1', tenants: ['1', '2', '15', '50'], app: app1 },
    { group: 'Group 2', tenants: ['1', '2', '25', '40'], app: app2 },
  ];
  const connections: DemoOutput['connections'] = [];
  for (const step of plan) {
    const group =
      (await listGroups(ctx.db, network.id)).find((g) => g.name === step.group) ??
      (await createGroup(ctx, actor, network.id, { name: step.group, tenantIds: step.tenants }));
    const connection =
      (await listConnections(ctx.db, network.id, { groupId: group.id })).find((c) => c.appId === step.app.id) ??
      (await connectApp(ctx, actor, network.id, {
        groupId: group.id,
        appId: step.app.id,
        acceptedTermsVersion: step.app.termsVersion,
        approvedBy: 'admin@goodplumbing.example',
      }));
    const secret = await generateSecret(ctx, actor, network.id, connection.id, { graceSeconds: 0 });
    connections.push({
      connection_id: connection.id,
      group_id: group.id,
      group: step.group,
      app: step.app.name,
      client_id: secret.clientId,
      client_secret: secret.clientSecret,
      tenants: await groupTenantIds(ctx.db, network.id, group.id),
    });
  }

  return {
    issuer,
    api: { audience: DEMO_AUDIENCE, scopes: DEMO_SCOPES.map((s) => s.scope) },
    network: { id: network.id, name: network.name },
    connections,
  };
}
