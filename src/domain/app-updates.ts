import {
  addTermsVersion,
  getApp,
  getAppOfOrg,
  getTerms,
  listApps,
  lockApp,
  replaceAppScopes,
  setAppPublished as storePublished,
  updateAppDetails,
} from '../storage/apps.js';
import { isAppId, optionalHttpsUrl, requireDescription, requireTerms, requireTokenTtl, resolveRequestedScopes, type CreateAppInput } from './apps.js';
import { change, type DomainContext } from './context.js';
import { assertThat, invalid, notFound } from './errors.js';
import type { Actor, App } from './types.js';
import { requireName } from './validation.js';

/**
 * Whose apps a caller may see and change: a developer only its organisation's, the operator
 * (CLI and operator pages) every app. Another organisation's app is reported as not found.
 */
export type AppAccess = { kind: 'org'; orgId: string } | { kind: 'operator' };

export interface UpdateAppInput {
  name: string;
  description?: string | undefined;
  homepageUrl?: string | null | undefined;
  logoUrl?: string | null | undefined;
  /** Terms text; a text that differs from the current one becomes a new terms version. */
  terms: string;
  scopes: CreateAppInput['scopes'];
  tokenTtl?: number | undefined;
}

export interface AppUpdateResult {
  app: App;
  termsChanged: boolean;
  /** Scopes the app requests now and did not before, as `audience|scope`. */
  addedScopes: string[];
  removedScopes: string[];
}

async function findAccessible(db: DomainContext['db'], access: AppAccess, appId: string): Promise<App | undefined> {
  if (!isAppId(appId)) return undefined;
  return access.kind === 'operator' ? getApp(db, appId) : getAppOfOrg(db, access.orgId, appId);
}

export async function requireAccessibleApp(ctx: DomainContext, access: AppAccess, appId: string): Promise<App> {
  const app = await findAccessible(ctx.db, access, appId);
  assertThat(app, notFound('app', appId));
  return app;
}

export async function listAccessibleApps(ctx: DomainContext, access: AppAccess): Promise<App[]> {
  return access.kind === 'operator' ? listApps(ctx.db) : listApps(ctx.db, { orgId: access.orgId });
}

/** Returns the text of the app's current terms version. */
export async function currentTermsText(ctx: DomainContext, app: App): Promise<string> {
  return (await getTerms(ctx.db, app.id, app.termsVersion)) ?? '';
}

const scopeKey = (s: { audience: string; scope: string }): string => `${s.audience}|${s.scope}`;

/**
 * Edits an app. Changed terms become a new version, so the next connection must accept it.
 * Changed scopes apply to new connections at once. Existing connections keep their consent
 * until an administrator approves the new scopes (see consent-updates.ts).
 */
export async function updateApp(ctx: DomainContext, actor: Actor, access: AppAccess, appId: string, input: UpdateAppInput): Promise<AppUpdateResult> {
  const name = requireName('app', input.name);
  const description = requireDescription(input.description);
  const terms = requireTerms(input.terms);
  const homepageUrl = optionalHttpsUrl('homepage URL', input.homepageUrl);
  const logoUrl = optionalHttpsUrl('logo URL', input.logoUrl);
  const tokenTtl = requireTokenTtl(input.tokenTtl, ctx.settings.accessTokenTtl);
  if (input.scopes.length === 0) throw invalid('app.no_scopes', 'an app must request at least one scope');

  return change(ctx, actor, async ({ trx, now, audit }) => {
    assertThat(await findAccessible(trx, access, appId), notFound('app', appId));
    const before = await lockApp(trx, appId);
    assertThat(before, notFound('app', appId));

    const scopes = await resolveRequestedScopes(trx, input.scopes);
    await updateAppDetails(trx, appId, { name, description, homepageUrl, logoUrl, tokenTtl }, now);
    await replaceAppScopes(trx, appId, scopes);

    const termsChanged = terms !== ((await getTerms(trx, appId, before.termsVersion)) ?? '');
    const termsVersion = termsChanged ? await addTermsVersion(trx, appId, terms, now) : before.termsVersion;

    const after = await getApp(trx, appId);
    assertThat(after, notFound('app', appId));
    const beforeKeys = new Set(before.scopes.map(scopeKey));
    const afterKeys = new Set(after.scopes.map(scopeKey));
    const addedScopes = [...afterKeys].filter((key) => !beforeKeys.has(key));
    const removedScopes = [...beforeKeys].filter((key) => !afterKeys.has(key));

    audit({
      networkId: null,
      action: 'app.updated',
      targetType: 'app',
      targetId: appId,
      details: { name, token_ttl: tokenTtl, terms_version: termsVersion, added_scopes: addedScopes, removed_scopes: removedScopes },
    });
    if (termsChanged) audit({ networkId: null, action: 'terms.versioned', targetType: 'app', targetId: appId, details: { terms_version: termsVersion } });
    return { app: after, termsChanged, addedScopes, removedScopes };
  });
}

/**
 * Publishes or unpublishes an app. Only published apps can be connected; unpublishing leaves
 * existing connections working until each hub disconnects them.
 */
export async function setAppPublished(ctx: DomainContext, actor: Actor, access: AppAccess, appId: string, published: boolean): Promise<App> {
  return change(ctx, actor, async ({ trx, now, audit }) => {
    const app = await findAccessible(trx, access, appId);
    assertThat(app, notFound('app', appId));
    if (app.published !== published) {
      await storePublished(trx, appId, published, now);
      audit({ networkId: null, action: published ? 'app.published' : 'app.unpublished', targetType: 'app', targetId: appId, details: { name: app.name } });
    }
    return { ...app, published };
  });
}
