import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

import { ACCESS_TOKEN_TTL_MAX, type SigningAlg } from '../config.js';
import { open, seal } from '../crypto/data-key.js';
import { change, type DomainContext } from '../domain/context.js';
import type { Actor } from '../domain/types.js';
import { insertSigningKey, listSigningKeys, updateSigningKey, type KeyState, type SigningKeyRow } from '../storage/signing-keys.js';

// A retired key stays in the JWKS until every token it signed has expired: the longest token
// lifetime an app may have, plus a minute of clock skew between servers.
export const RETIRED_KEY_KEEP_MS = (ACCESS_TOKEN_TTL_MAX + 60) * 1000;

export interface SigningKey {
  kid: string;
  alg: string;
  state: KeyState;
  createdAt: number;
  activatedAt: number | null;
  retiredAt: number | null;
  expiresAt: number | null;
}

export interface LoadedKeys {
  /** The kid every new token is signed with. */
  activeKid: string;
  activeAlg: SigningAlg;
  /** Private JWKs for oidc-provider, active first; the JWKS endpoint publishes their public parts. */
  privateJwks: JWK[];
}

async function newKeyRow(ctx: DomainContext, alg: SigningAlg, state: KeyState, now: number): Promise<SigningKeyRow> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : { modulusLength: 2048 }) });
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(privateJwk);
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = privateJwk;

  return {
    kid,
    alg,
    state,
    public_jwk: JSON.stringify({ ...publicJwk, kid, alg, use: 'sig' }),
    encrypted_private_jwk: seal(ctx.keys.keyEncryption, JSON.stringify({ ...privateJwk, kid, alg, use: 'sig' }), kid),
    created_at: now,
    activated_at: state === 'active' ? now : null,
    retired_at: null,
    expires_at: null,
  };
}

export function toSigningKey(row: SigningKeyRow): SigningKey {
  return {
    kid: row.kid,
    alg: row.alg,
    state: row.state,
    createdAt: row.created_at,
    activatedAt: row.activated_at,
    retiredAt: row.retired_at,
    expiresAt: row.expires_at,
  };
}

/**
 * Makes sure an active key of the configured algorithm exists, generating one on first start.
 * When the algorithm changed, the old active key is retired, not deleted, so tokens it signed
 * keep verifying until they expire. Runs in a change, so two instances starting together on an
 * empty database agree on one key.
 */
export async function ensureSigningKey(ctx: DomainContext, actor: Actor, alg: SigningAlg): Promise<void> {
  const existing = await listSigningKeys(ctx.db);
  if (existing.some((row) => row.state === 'active' && row.alg === alg)) return;

  await change(ctx, actor, async ({ trx, now, audit }) => {
    const rows = await listSigningKeys(trx);
    if (rows.some((row) => row.state === 'active' && row.alg === alg)) return;

    const next = rows.find((row) => row.state === 'next' && row.alg === alg);
    for (const row of rows.filter((r) => r.state === 'active')) {
      await updateSigningKey(trx, row.kid, { state: 'retired', retired_at: now, expires_at: now + RETIRED_KEY_KEEP_MS });
    }
    if (next) {
      await updateSigningKey(trx, next.kid, { state: 'active', activated_at: now });
      audit({ networkId: null, action: 'signing_key.activated', targetType: 'signing_key', targetId: next.kid, details: { alg } });
      return;
    }
    const row = await newKeyRow(ctx, alg, 'active', now);
    await insertSigningKey(trx, row);
    audit({ networkId: null, action: 'signing_key.created', targetType: 'signing_key', targetId: row.kid, details: { alg, state: 'active' } });
  });
}

/** Publishes a new key of `alg` in the JWKS without signing with it yet (first step of a rotation). */
export async function publishNextKey(ctx: DomainContext, actor: Actor, alg: SigningAlg): Promise<SigningKey> {
  return change(ctx, actor, async ({ trx, now, audit }) => {
    const pending = (await listSigningKeys(trx)).find((row) => row.state === 'next');
    if (pending) return toSigningKey(pending);
    const row = await newKeyRow(ctx, alg, 'next', now);
    await insertSigningKey(trx, row);
    audit({ networkId: null, action: 'signing_key.published', targetType: 'signing_key', targetId: row.kid, details: { alg, state: 'next' } });
    return toSigningKey(row);
  });
}

/** Switches signing to the published next key and retires the active one (second step). */
export async function activateNextKey(ctx: DomainContext, actor: Actor): Promise<SigningKey | undefined> {
  return change(ctx, actor, async ({ trx, now, audit }) => {
    const rows = await listSigningKeys(trx);
    const next = rows.find((row) => row.state === 'next');
    if (!next) return undefined;
    for (const row of rows.filter((r) => r.state === 'active')) {
      await updateSigningKey(trx, row.kid, { state: 'retired', retired_at: now, expires_at: now + RETIRED_KEY_KEEP_MS });
      audit({ networkId: null, action: 'signing_key.retired', targetType: 'signing_key', targetId: row.kid, details: {} });
    }
    await updateSigningKey(trx, next.kid, { state: 'active', activated_at: now });
    audit({ networkId: null, action: 'signing_key.activated', targetType: 'signing_key', targetId: next.kid, details: { alg: next.alg } });
    return toSigningKey({ ...next, state: 'active', activated_at: now });
  });
}

export async function listKeys(ctx: DomainContext): Promise<SigningKey[]> {
  return (await listSigningKeys(ctx.db)).map(toSigningKey);
}

/**
 * Decrypts the keys the JWKS must publish at `now`: the active key, a pre-published next key,
 * and retired keys until their expiry. Throws when no key is active.
 */
export async function loadKeys(ctx: DomainContext, now: number): Promise<LoadedKeys> {
  const rows = (await listSigningKeys(ctx.db)).filter((row) => row.state !== 'retired' || (row.expires_at ?? 0) > now);
  const active = rows.filter((row) => row.state === 'active').sort((a, b) => (b.activated_at ?? 0) - (a.activated_at ?? 0))[0];
  if (!active) throw new Error('no active signing key; run `tenantgate migrate` and start the server once');

  const ordered = [active, ...rows.filter((row) => row !== active)];
  return {
    activeKid: active.kid,
    activeAlg: active.alg as SigningAlg,
    privateJwks: ordered.map((row) => JSON.parse(open(ctx.keys.keyEncryption, row.encrypted_private_jwk, row.kid)) as JWK),
  };
}
