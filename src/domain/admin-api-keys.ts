import { createHmac, randomBytes, randomUUID } from 'node:crypto';

import { findAdminApiKey, insertAdminApiKey, listAdminApiKeys, revokeAdminApiKey } from '../storage/admin-api-keys.js';
import { findUserForSignIn, getNetworkUser } from '../storage/users.js';
import { change, type DomainContext } from './context.js';
import { requireNetwork } from './networks.js';
import { assertThat, invalid, notFound } from './errors.js';
import type { User } from './accounts-types.js';
import type { Actor } from './types.js';
import { requireName } from './validation.js';

// A recognisable prefix lets secret scanners find leaked keys.
export const ADMIN_API_KEY_PREFIX = 'tga_';

const hashKey = (ctx: DomainContext, key: string): string => createHmac('sha256', ctx.keys.webTokens).update(`admin-api-key:${key}`).digest('hex');

/** Creates an admin API key for a network user; the key is returned once and only its HMAC is stored. */
export async function createAdminApiKey(
  ctx: DomainContext,
  actor: Actor,
  input: { email: string; name: string },
): Promise<{ id: string; key: string; networkId: string; userId: string }> {
  const name = requireName('key', input.name);
  const user = await findUserForSignIn(ctx.db, input.email.trim().toLowerCase());
  assertThat(user, notFound('user', input.email));
  if (user.networkId === null) throw invalid('key.operator', 'admin API keys act inside a network; operators belong to none');
  const networkId = user.networkId;

  const key = ADMIN_API_KEY_PREFIX + randomBytes(32).toString('base64url');
  return change(ctx, actor, async ({ trx, now, audit }) => {
    const id = randomUUID();
    await insertAdminApiKey(trx, { id, networkId, userId: user.id, name, keyHash: hashKey(ctx, key), now });
    audit({ networkId, action: 'admin_api_key.created', targetType: 'user', targetId: user.id, details: { key_id: id, name } });
    return { id, key, networkId, userId: user.id };
  });
}

/** Lists a network's admin API keys (never the keys themselves); an unknown network is a 404. */
export async function listAdminKeys(ctx: DomainContext, networkId: string): Promise<Awaited<ReturnType<typeof listAdminApiKeys>>> {
  await requireNetwork(ctx, networkId);
  return listAdminApiKeys(ctx.db, networkId);
}

/** Revokes a key of the network at once; a key of another network, or one already revoked, is a 404. */
export async function revokeAdminKey(ctx: DomainContext, actor: Actor, networkId: string, id: string): Promise<void> {
  await change(ctx, actor, async ({ trx, now, audit }) => {
    assertThat(await revokeAdminApiKey(trx, networkId, id, now), notFound('key', id));
    audit({ networkId, action: 'admin_api_key.revoked', targetType: 'admin_api_key', targetId: id, details: {} });
  });
}

/** Returns the user a presented key acts as, or undefined for any unknown, revoked or malformed key. */
export async function authenticateAdminApiKey(ctx: DomainContext, key: string): Promise<{ user: User; networkId: string; keyId: string } | undefined> {
  if (!key.startsWith(ADMIN_API_KEY_PREFIX) || key.length > 100) return undefined;
  const row = await findAdminApiKey(ctx.db, hashKey(ctx, key));
  if (!row) return undefined;
  const user = await getNetworkUser(ctx.db, row.networkId, row.userId);
  return user && { user, networkId: row.networkId, keyId: row.id };
}
