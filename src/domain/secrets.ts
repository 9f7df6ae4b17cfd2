import { randomUUID } from 'node:crypto';

import { SECRET_GRACE_PERIOD_MAX } from '../config.js';
import { generateClientSecret, hashClientSecret } from '../crypto/client-secret.js';
import { lockConnection } from '../storage/connections.js';
import { expireCurrentSecrets, insertSecret, listSecrets, listValidSecrets, revokeSecrets } from '../storage/secrets.js';
import { change, type DomainContext } from './context.js';
import { assertThat, conflict, invalid, notFound } from './errors.js';
import type { Actor } from './types.js';

export interface GeneratedSecret {
  connectionId: string;
  clientId: string;
  /** The only time the secret exists outside the caller's hands; it is never stored. */
  clientSecret: string;
  secretId: string;
  /** When the previous secret stops working, if there was one (epoch ms). */
  previousExpiresAt: number | null;
}

/**
 * Generates a new secret for a connection and makes it current. The previous current secret
 * stays valid for the grace period (0 ends it now); any older secret still in grace is revoked,
 * so at most two secrets are valid at any time. The connection row lock serialises rotations.
 */
export async function generateSecret(
  ctx: DomainContext,
  actor: Actor,
  networkId: string,
  connectionId: string,
  options: { graceSeconds?: number | undefined } = {},
): Promise<GeneratedSecret> {
  const grace = options.graceSeconds ?? ctx.settings.secretGracePeriod;
  if (!Number.isInteger(grace) || grace < 0 || grace > SECRET_GRACE_PERIOD_MAX) {
    throw invalid('secret.invalid_grace', `grace period must be a whole number of seconds from 0 to ${SECRET_GRACE_PERIOD_MAX} (30 days)`);
  }
  const clientSecret = generateClientSecret();
  const secretHash = hashClientSecret(ctx.keys.secretHash, clientSecret);

  return change(ctx, actor, async ({ trx, now, audit }) => {
    const connection = await lockConnection(trx, networkId, connectionId);
    assertThat(connection && connection.status !== 'disconnected', notFound('connection', connectionId));
    if (!connection.consent) throw conflict('secret.no_consent', 'the connection has no approved consent yet');

    const valid = await listValidSecrets(trx, networkId, connectionId, now);
    const inGrace = valid.filter((s) => s.expiresAt !== null).map((s) => s.id);
    const revoked = await revokeSecrets(trx, networkId, connectionId, now, inGrace);
    const previousExpiresAt = grace === 0 ? now : now + grace * 1000;
    const expired = await expireCurrentSecrets(trx, networkId, connectionId, previousExpiresAt);
    if (grace === 0 && expired.length > 0) await revokeSecrets(trx, networkId, connectionId, now, expired);

    const secretId = randomUUID();
    await insertSecret(trx, { id: secretId, networkId, connectionId, secretHash, hint: clientSecret.slice(-4), createdBy: actor.id, now });

    audit({
      networkId,
      action: expired.length > 0 ? 'secret.rotated' : 'secret.generated',
      targetType: 'connection',
      targetId: connectionId,
      details: {
        secret_id: secretId,
        previous_secret_ids: expired,
        previous_expires_at: expired.length > 0 ? new Date(previousExpiresAt).toISOString() : null,
        revoked_secret_ids: revoked,
        grace_seconds: grace,
      },
    });

    return {
      connectionId,
      clientId: connection.clientId,
      clientSecret,
      secretId,
      previousExpiresAt: expired.length > 0 ? previousExpiresAt : null,
    };
  });
}

/** Ends the grace period of previous secrets at once, leaving the current secret valid. */
export async function endGracePeriod(ctx: DomainContext, actor: Actor, networkId: string, connectionId: string): Promise<string[]> {
  return change(ctx, actor, async ({ trx, now, audit }) => {
    const connection = await lockConnection(trx, networkId, connectionId);
    assertThat(connection && connection.status !== 'disconnected', notFound('connection', connectionId));
    const inGrace = (await listValidSecrets(trx, networkId, connectionId, now)).filter((s) => s.expiresAt !== null).map((s) => s.id);
    const revoked = await revokeSecrets(trx, networkId, connectionId, now, inGrace);
    audit({ networkId, action: 'secret.grace_ended', targetType: 'connection', targetId: connectionId, details: { revoked_secret_ids: revoked } });
    return revoked;
  });
}

/** Revokes every valid secret of a connection; the client then cannot authenticate. */
export async function revokeAllSecrets(ctx: DomainContext, actor: Actor, networkId: string, connectionId: string): Promise<string[]> {
  return change(ctx, actor, async ({ trx, now, audit }) => {
    const connection = await lockConnection(trx, networkId, connectionId);
    assertThat(connection, notFound('connection', connectionId));
    const revoked = await revokeSecrets(trx, networkId, connectionId, now);
    audit({ networkId, action: 'secret.revoked', targetType: 'connection', targetId: connectionId, details: { revoked_secret_ids: revoked } });
    return revoked;
  });
}

export { listSecrets };
