import { randomUUID } from 'node:crypto';

import { generateClientId } from '../crypto/client-secret.js';
import { getApp } from '../storage/apps.js';
import {
  findLiveConnection,
  getConnection,
  insertConnection,
  insertConsent,
  listConnections,
  lockConnection,
  setConnectionStatus,
} from '../storage/connections.js';
import { getGroupRow } from '../storage/groups.js';
import { revokeSecrets } from '../storage/secrets.js';
import { change, recordEvent, type DomainContext } from './context.js';
import { assertThat, conflict, DomainError, invalid, notFound } from './errors.js';
import type { Actor, Connection, ConsentedScope } from './types.js';

export interface ConnectInput {
  groupId: string;
  appId: string;
  /** The terms version the administrator accepted; must be the app's current one. */
  acceptedTermsVersion: number;
  /** The approver on the Allow Access screen (user ID or e-mail). */
  approvedBy: string;
  /** Scopes approved, as `audience|scope` or `scope`; omitted approves all the app requests. */
  scopes?: readonly string[] | undefined;
}

/**
 * Connects an app to a group: records the consent (who, when, which scopes, which terms
 * version) and creates the connection's OAuth client. The secret is generated separately, so
 * an administrator gets it only on the step meant for it.
 */
export async function connectApp(ctx: DomainContext, actor: Actor, networkId: string, input: ConnectInput): Promise<Connection> {
  const approvedBy = input.approvedBy.trim();
  if (approvedBy.length === 0) throw invalid('connection.missing_approver', 'the consent needs the name or e-mail of the person who approved access');

  return change(ctx, actor, async ({ trx, now, audit }) => {
    const group = await getGroupRow(trx, networkId, input.groupId);
    assertThat(group, notFound('group', input.groupId));
    const app = await getApp(trx, input.appId);
    // An unpublished app is reported as missing, exactly like an unknown one.
    assertThat(app && app.published, notFound('app', input.appId));

    if (input.acceptedTermsVersion !== app.termsVersion) {
      throw new DomainError(
        'connection.terms_outdated',
        409,
        `the terms of ${app.name} changed (version ${app.termsVersion}); accept the current terms to connect`,
      );
    }
    if (await findLiveConnection(trx, networkId, group.id, app.id)) {
      throw conflict('connection.exists', `${app.name} is already connected to group ${group.name}`);
    }

    const scopes = pickScopes(app.scopes, input.scopes);
    const id = randomUUID();
    const clientId = generateClientId();
    await insertConnection(trx, { id, networkId, groupId: group.id, appId: app.id, clientId, now });
    const consentId = randomUUID();
    await insertConsent(trx, { id: consentId, networkId, connectionId: id, approvedBy, approvedAt: now, scopes, termsVersion: app.termsVersion });

    audit({ networkId, action: 'terms.accepted', targetType: 'app', targetId: app.id, details: { group_id: group.id, terms_version: app.termsVersion } });
    audit({
      networkId,
      action: 'consent.granted',
      targetType: 'connection',
      targetId: id,
      details: { app_id: app.id, group_id: group.id, approved_by: approvedBy, scopes: scopes.map((s) => s.scope), terms_version: app.termsVersion },
    });
    audit({ networkId, action: 'connection.created', targetType: 'connection', targetId: id, details: { app_id: app.id, group_id: group.id, client_id: clientId } });

    const connection = await getConnection(trx, networkId, id);
    assertThat(connection, notFound('connection', id));
    return connection;
  });
}

function pickScopes(requested: { apiId: string; audience: string; scope: string }[], approved: readonly string[] | undefined): ConsentedScope[] {
  const all = requested.map((s) => ({ apiId: s.apiId, audience: s.audience, scope: s.scope }));
  if (approved === undefined) return all;

  const picked: ConsentedScope[] = [];
  for (const value of new Set(approved)) {
    const match = all.find((s) => value === s.scope || value === `${s.audience}|${s.scope}`);
    if (!match) throw invalid('connection.scope_not_requested', `scope ${JSON.stringify(value)} is not one the app requests`);
    if (!picked.includes(match)) picked.push(match);
  }
  if (picked.length === 0) throw invalid('connection.no_scopes', 'approve at least one scope');
  return picked;
}

/** Records a declined Allow Access screen: nothing is created, only the audit entry remains. */
export async function declineConnection(ctx: DomainContext, actor: Actor, networkId: string, input: { groupId: string; appId: string }): Promise<void> {
  assertThat(await getGroupRow(ctx.db, networkId, input.groupId), notFound('group', input.groupId));
  await recordEvent(ctx, actor, {
    networkId,
    action: 'consent.declined',
    targetType: 'app',
    targetId: input.appId,
    details: { group_id: input.groupId },
    outcome: 'denied',
  });
}

export async function requireConnection(ctx: DomainContext, networkId: string, connectionId: string): Promise<Connection> {
  const connection = await getConnection(ctx.db, networkId, connectionId);
  assertThat(connection, notFound('connection', connectionId));
  return connection;
}

async function setStatus(
  ctx: DomainContext,
  actor: Actor,
  networkId: string,
  connectionId: string,
  from: readonly Connection['status'][],
  to: Connection['status'],
  action: string,
): Promise<void> {
  await change(ctx, actor, async ({ trx, now, audit }) => {
    const connection = await lockConnection(trx, networkId, connectionId);
    assertThat(connection && connection.status !== 'disconnected', notFound('connection', connectionId));
    if (!from.includes(connection.status)) throw conflict('connection.invalid_state', `the connection is ${connection.status}`);
    await setConnectionStatus(trx, networkId, [connectionId], to, now);
    if (to === 'disconnected') await revokeSecrets(trx, networkId, connectionId, now);
    audit({ networkId, action, targetType: 'connection', targetId: connectionId, details: { client_id: connection.clientId } });
  });
}

export const disableConnection = (ctx: DomainContext, actor: Actor, networkId: string, id: string) =>
  setStatus(ctx, actor, networkId, id, ['active'], 'disabled', 'connection.disabled');

export const restoreConnection = (ctx: DomainContext, actor: Actor, networkId: string, id: string) =>
  setStatus(ctx, actor, networkId, id, ['disabled'], 'active', 'connection.restored');

export const disconnectConnection = (ctx: DomainContext, actor: Actor, networkId: string, id: string) =>
  setStatus(ctx, actor, networkId, id, ['active', 'disabled'], 'disconnected', 'connection.disconnected');

export { listConnections };
