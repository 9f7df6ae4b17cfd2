import { randomUUID } from 'node:crypto';

import { getApp } from '../storage/apps.js';
import { getConnection, insertConsent, lockConnection } from '../storage/connections.js';
import { change, type DomainContext } from './context.js';
import { assertThat, conflict, DomainError, invalid, notFound } from './errors.js';
import type { Actor, AppScope, Connection, ConsentedScope } from './types.js';

/** Scope changes that an administrator approves on the fresh Allow Access screen of a scope update. */
export interface ScopeUpdate {
  connectionId: string;
  appId: string;
  appName: string;
  /** Scopes the app requests now and the connection's consent does not hold, with their reasons. */
  added: AppScope[];
  /** Consented scopes the app still requests; they stay in the new consent. */
  kept: ConsentedScope[];
  /** Consented scopes the app no longer requests; the new consent drops them. */
  dropped: ConsentedScope[];
  /** The app's current terms version, which the approval must accept. */
  termsVersion: number;
}

const key = (s: { audience: string; scope: string }): string => `${s.audience}|${s.scope}`;

function sameScopes(left: readonly string[], right: readonly string[]): boolean {
  const a = new Set(left);
  const b = new Set(right);
  return a.size === b.size && [...a].every((value) => b.has(value));
}

function scopeUpdate(connection: Connection, app: { id: string; name: string; termsVersion: number; scopes: AppScope[] }): ScopeUpdate | null {
  const consented = connection.consent?.scopes ?? [];
  const consentedKeys = new Set(consented.map(key));
  const requestedKeys = new Set(app.scopes.map(key));

  const added = app.scopes.filter((s) => !consentedKeys.has(key(s)));
  if (added.length === 0) return null;
  return {
    connectionId: connection.id,
    appId: app.id,
    appName: app.name,
    added,
    kept: consented.filter((s) => requestedKeys.has(key(s))),
    dropped: consented.filter((s) => !requestedKeys.has(key(s))),
    termsVersion: app.termsVersion,
  };
}

/**
 * Returns the scopes the connection's app requests beyond the connection's consent, or null
 * when there are none (or the connection is disconnected). Until an administrator approves
 * them, tokens carry only the consented scopes.
 */
export async function pendingScopeUpdate(ctx: DomainContext, networkId: string, connectionId: string): Promise<ScopeUpdate | null> {
  const connection = await getConnection(ctx.db, networkId, connectionId);
  assertThat(connection, notFound('connection', connectionId));
  if (connection.status === 'disconnected') return null;

  const app = await getApp(ctx.db, connection.appId);
  assertThat(app, notFound('app', connection.appId));
  return scopeUpdate(connection, app);
}

export interface ApproveScopeUpdateInput {
  /** User ID or e-mail of the administrator who approved on the Allow Access screen. */
  approvedBy: string;
  /** The terms version the administrator accepted; must be the app's current one. */
  acceptedTermsVersion: number;
  /**
   * The added scopes the Allow Access screen showed, as `audience|scope`. When given, the
   * approval fails if the app's request changed after the screen was shown, so nobody approves
   * a scope they never saw.
   */
  shownScopes?: readonly string[] | undefined;
}

/**
 * Records a new consent holding every scope the app now requests (the kept ones and the added
 * ones), so the next token of the connection may carry the added scopes. The previous consent
 * stays in the consents table as history.
 */
export async function approveScopeUpdate(
  ctx: DomainContext,
  actor: Actor,
  networkId: string,
  connectionId: string,
  input: ApproveScopeUpdateInput,
): Promise<Connection> {
  const approvedBy = input.approvedBy.trim();
  if (approvedBy.length === 0) throw invalid('connection.missing_approver', 'the consent needs the name or e-mail of the person who approved access');

  return change(ctx, actor, async ({ trx, now, audit }) => {
    const connection = await lockConnection(trx, networkId, connectionId);
    assertThat(connection && connection.status !== 'disconnected', notFound('connection', connectionId));
    const app = await getApp(trx, connection.appId);
    assertThat(app, notFound('app', connection.appId));

    const update = scopeUpdate(connection, app);
    if (!update) throw conflict('consent.no_update', `${app.name} requests no scopes beyond this connection's consent`);
    if (input.shownScopes !== undefined && !sameScopes(input.shownScopes, update.added.map(key))) {
      throw conflict('consent.update_changed', `${app.name} changed the scopes it requests while the screen was open; review the new request and approve again`);
    }
    if (input.acceptedTermsVersion !== app.termsVersion) {
      throw new DomainError(
        'connection.terms_outdated',
        409,
        `the terms of ${app.name} changed (version ${app.termsVersion}); accept the current terms to approve the new scopes`,
      );
    }

    const scopes: ConsentedScope[] = [...update.kept, ...update.added.map((s) => ({ apiId: s.apiId, audience: s.audience, scope: s.scope }))];
    const consentId = randomUUID();
    await insertConsent(trx, { id: consentId, networkId, connectionId, approvedBy, approvedAt: now, scopes, termsVersion: app.termsVersion });

    if (connection.consent?.termsVersion !== app.termsVersion) {
      audit({ networkId, action: 'terms.accepted', targetType: 'app', targetId: app.id, details: { group_id: connection.groupId, terms_version: app.termsVersion } });
    }
    audit({
      networkId,
      action: 'consent.updated',
      targetType: 'connection',
      targetId: connectionId,
      details: {
        app_id: app.id,
        approved_by: approvedBy,
        scopes: scopes.map((s) => s.scope),
        added_scopes: update.added.map((s) => s.scope),
        dropped_scopes: update.dropped.map((s) => s.scope),
        terms_version: app.termsVersion,
      },
    });

    const updated = await getConnection(trx, networkId, connectionId);
    assertThat(updated, notFound('connection', connectionId));
    return updated;
  });
}
