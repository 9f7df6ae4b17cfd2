import { createHmac, randomBytes, randomUUID } from 'node:crypto';

import { decoyHash, hashPassword, needsRehash, PASSWORD_MAX, passwordProblem, verifyPassword } from '../crypto/password.js';
import {
  findDeveloperByEmail,
  findDeveloperOrgByName,
  findInvitationByTokenHash,
  getDeveloper,
  getDeveloperOrg,
  insertDeveloper,
  insertDeveloperOrg,
  insertInvitation,
  markInvitationAccepted,
  setDeveloperPasswordHash,
  type Developer,
  type DeveloperOrg,
} from '../storage/developers.js';
import { getPortalSetting, setPortalSetting } from '../storage/portal-settings.js';
import { change, type DomainContext } from './context.js';
import { assertThat, conflict, DomainError, invalid, notFound } from './errors.js';
import type { Actor } from './types.js';
import { requireName } from './validation.js';

export type { Developer, DeveloperOrg };

// A week gives an invited developer time to find the mail; the link works once.
export const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;
const INVITATION_PREFIX = 'tgi_';
const OPEN_SIGN_UP = 'open_sign_up';
const EMAIL_MAX = 320; // RFC 5321 local part (64) + "@" + domain (255)

/** Path of the portal page where an invited developer chooses a password. */
export const INVITATION_PATH = '/portal/invitation';

/**
 * Builds the invitation link. The token travels as a query parameter because request logs
 * record only the path.
 */
export function invitationLink(issuer: string, token: string): string {
  return `${issuer.replace(/\/$/, '')}${INVITATION_PATH}?token=${encodeURIComponent(token)}`;
}

/** A developer signed in to the portal, with the organisation whose apps it may read and change. */
export interface DeveloperAccount {
  id: string;
  email: string;
  org: DeveloperOrg;
}

/** Lower-cases and checks an e-mail address; only the shape is checked, not deliverability. */
export function requireEmail(value: string): string {
  const email = value.trim().toLowerCase();
  if (email.length === 0) throw invalid('developer.invalid_email', 'e-mail address must not be empty');
  if (email.length > EMAIL_MAX) throw invalid('developer.invalid_email', `e-mail address must be at most ${EMAIL_MAX} characters`);
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw invalid('developer.invalid_email', `${JSON.stringify(email)} is not an e-mail address`);
  return email;
}

function requirePassword(password: string): string {
  const problem = passwordProblem(password);
  if (problem) throw invalid('developer.invalid_password', problem);
  return password;
}

function hashInvitationToken(ctx: DomainContext, token: string): string {
  return createHmac('sha256', ctx.keys.webTokens).update(`developer-invitation:${token}`, 'utf8').digest('hex');
}

export async function isOpenSignUp(ctx: DomainContext): Promise<boolean> {
  return (await getPortalSetting(ctx.db, OPEN_SIGN_UP)) === true;
}

/** Allows or stops self-service sign-up; when stopped, developers join only by invitation. */
export async function setOpenSignUp(ctx: DomainContext, actor: Actor, enabled: boolean): Promise<void> {
  await change(ctx, actor, async ({ trx, now, audit }) => {
    await setPortalSetting(trx, OPEN_SIGN_UP, enabled, now);
    audit({ networkId: null, action: 'portal.open_sign_up_changed', targetType: 'setting', targetId: OPEN_SIGN_UP, details: { enabled } });
  });
}

async function toAccount(ctx: DomainContext, developer: Developer): Promise<DeveloperAccount> {
  const org = await getDeveloperOrg(ctx.db, developer.orgId);
  assertThat(org, notFound('developer_org', developer.orgId));
  return { id: developer.id, email: developer.email, org };
}

/**
 * Creates a developer and a new organisation of its own, when the operator allows open
 * sign-up. Joining an existing organisation takes an invitation.
 */
export async function signUpDeveloper(ctx: DomainContext, actor: Actor, input: { email: string; password: string; orgName: string }): Promise<DeveloperAccount> {
  const email = requireEmail(input.email);
  const orgName = requireName('organisation', input.orgName);
  requirePassword(input.password);
  if (!(await isOpenSignUp(ctx))) {
    throw new DomainError('portal.sign_up_closed', 403, 'sign-up is by invitation only; ask the platform operator for an invitation');
  }
  const passwordHash = await hashPassword(input.password);

  const developer = await change(ctx, actor, async ({ trx, now, audit }) => {
    if (await findDeveloperByEmail(trx, email)) throw conflict('developer.email_taken', `${email} already has a developer account; sign in instead`);
    if (await findDeveloperOrgByName(trx, orgName)) {
      throw conflict('developer_org.name_taken', `an organisation named ${JSON.stringify(orgName)} exists; ask the operator for an invitation to join it`);
    }
    const orgId = randomUUID();
    await insertDeveloperOrg(trx, { id: orgId, name: orgName, now });
    const id = randomUUID();
    await insertDeveloper(trx, { id, orgId, email, passwordHash, now });
    audit({ networkId: null, action: 'developer_org.created', targetType: 'developer_org', targetId: orgId, details: { name: orgName } });
    audit({ networkId: null, action: 'developer.signed_up', targetType: 'developer', targetId: id, details: { email, org_id: orgId } });
    const created = await getDeveloper(trx, id);
    assertThat(created, notFound('developer', id));
    return created;
  });
  return toAccount(ctx, developer);
}

export interface CreatedInvitation {
  /** One-time token for the invitation link; shown once, stored only as a keyed hash. */
  token: string;
  email: string;
  org: DeveloperOrg;
  expiresAt: number;
}

/**
 * Invites a developer into an organisation, given by ID or by name; a name that matches no
 * organisation creates one. Returns the one-time token for the link.
 */
export async function inviteDeveloper(ctx: DomainContext, actor: Actor, input: { email: string; orgId?: string; orgName?: string }): Promise<CreatedInvitation> {
  const email = requireEmail(input.email);
  const orgName = input.orgId === undefined ? requireName('organisation', input.orgName ?? '') : undefined;
  const token = INVITATION_PREFIX + randomBytes(32).toString('base64url');

  return change(ctx, actor, async ({ trx, now, audit }) => {
    if (await findDeveloperByEmail(trx, email)) throw conflict('developer.email_taken', `${email} already has a developer account`);

    let org = input.orgId === undefined ? await findDeveloperOrgByName(trx, orgName!) : await getDeveloperOrg(trx, input.orgId);
    if (!org && input.orgId !== undefined) {
      throw new DomainError('developer_org.not_found', 404, `developer organisation ${JSON.stringify(input.orgId)} was not found; check the ID or invite by organisation name`);
    }
    if (!org) {
      org = { id: randomUUID(), name: orgName! };
      await insertDeveloperOrg(trx, { ...org, now });
      audit({ networkId: null, action: 'developer_org.created', targetType: 'developer_org', targetId: org.id, details: { name: org.name } });
    }

    const id = randomUUID();
    const expiresAt = now + INVITATION_TTL_MS;
    await insertInvitation(trx, { id, orgId: org.id, email, tokenHash: hashInvitationToken(ctx, token), createdBy: actor.id, now, expiresAt });
    audit({ networkId: null, action: 'developer.invited', targetType: 'developer_invitation', targetId: id, details: { email, org_id: org.id, expires_at: expiresAt } });
    return { token, email, org, expiresAt };
  });
}

const invitationInvalid = (): DomainError =>
  new DomainError('invitation.invalid', 404, 'this invitation link is invalid, already used or expired; ask the operator for a new one');

/** Returns the e-mail address and organisation of a usable invitation, for the accept page. */
export async function describeInvitation(ctx: DomainContext, token: string): Promise<{ email: string; org: DeveloperOrg }> {
  const invitation = await findInvitationByTokenHash(ctx.db, hashInvitationToken(ctx, token));
  if (!invitation || invitation.acceptedAt !== null || invitation.expiresAt <= ctx.clock.now()) throw invitationInvalid();
  const org = await getDeveloperOrg(ctx.db, invitation.orgId);
  assertThat(org, invitationInvalid);
  return { email: invitation.email, org };
}

/** Uses an invitation once: creates the invited developer with the chosen password. */
export async function acceptInvitation(ctx: DomainContext, actor: Actor, input: { token: string; password: string }): Promise<DeveloperAccount> {
  requirePassword(input.password);
  const passwordHash = await hashPassword(input.password);
  const tokenHash = hashInvitationToken(ctx, input.token);

  const developer = await change(ctx, actor, async ({ trx, now, audit }) => {
    const invitation = await findInvitationByTokenHash(trx, tokenHash);
    if (!invitation || invitation.acceptedAt !== null || invitation.expiresAt <= now) throw invitationInvalid();
    if (!(await markInvitationAccepted(trx, invitation.id, now))) throw invitationInvalid();
    if (await findDeveloperByEmail(trx, invitation.email)) throw conflict('developer.email_taken', `${invitation.email} already has a developer account; sign in instead`);

    const id = randomUUID();
    await insertDeveloper(trx, { id, orgId: invitation.orgId, email: invitation.email, passwordHash, now });
    audit({ networkId: null, action: 'developer.invitation_accepted', targetType: 'developer', targetId: id, details: { email: invitation.email, org_id: invitation.orgId } });
    const created = await getDeveloper(trx, id);
    assertThat(created, notFound('developer', id));
    return created;
  });
  return toAccount(ctx, developer);
}

/**
 * Checks a developer's e-mail and password. An unknown address costs the same hash as a wrong
 * password, so timing does not reveal which addresses have accounts. Returns null on failure.
 */
export async function authenticateDeveloper(ctx: DomainContext, emailInput: string, password: string): Promise<DeveloperAccount | null> {
  const email = emailInput.trim().toLowerCase();
  const developer = email.length > 0 && email.length <= EMAIL_MAX ? await findDeveloperByEmail(ctx.db, email) : undefined;
  const usable = password.length > 0 && password.length <= PASSWORD_MAX;
  const matches = await verifyPassword(usable ? password : '', developer?.passwordHash ?? (await decoyHash()));
  if (!developer || !usable || !matches || developer.disabledAt !== null) return null;

  if (needsRehash(developer.passwordHash)) {
    await setDeveloperPasswordHash(ctx.db, developer.id, await hashPassword(password), ctx.clock.now());
  }
  return toAccount(ctx, developer);
}

/** Loads the account behind a portal session; null when the developer is gone or disabled. */
export async function findDeveloperAccount(ctx: DomainContext, developerId: string): Promise<DeveloperAccount | null> {
  const developer = await getDeveloper(ctx.db, developerId);
  if (!developer || developer.disabledAt !== null) return null;
  return toAccount(ctx, developer);
}
