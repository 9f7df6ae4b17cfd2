import type { Provider } from 'oidc-provider';

import { hashClientSecret, hashesEqual } from '../crypto/client-secret.js';
import type { Clock } from '../domain/types.js';
import type { ClientStore, KnownClient } from './client-store.js';
import { toRateLimitedProviderError } from './rate-limited.js';
import { toProviderError } from './storage-unavailable.js';

// Compared when the client is unknown or inactive, so that path does the same work as a wrong
// secret. It is the hash of nothing anyone holds.
const DECOY_HASH = '0'.repeat(64);

export interface SecretCheckHooks {
  /** Called with the ID of the secret that authenticated, for the batched last-used record. */
  onSecretUsed(secretId: string): void;
  /** Called before the comparison; rejects with RateLimitedError a client ID in back-off. */
  beforeCheck?(clientId: string): Promise<void>;
  /**
   * Called when authentication fails, for rate limiting and the audit counter. It may reject
   * with RateLimitedError, which turns the 401 into a 429.
   */
  onFailure(clientId: string): void | Promise<void>;
}

/**
 * Checks a presented secret against the stored HMACs of a client. Every candidate is compared
 * (no early exit), in constant time per comparison; at most two secrets are valid at once.
 */
export function verifyClientSecret(
  keys: { secretHash: Buffer },
  client: KnownClient | undefined,
  presented: string,
  now: number,
): string | undefined {
  const presentedHash = hashClientSecret(keys.secretHash, presented);
  const active = client !== undefined && (client.kind === 'introspection' || client.record.status === 'active');
  const candidates = active ? client.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now) : [];

  let matched: string | undefined;
  for (const candidate of candidates.length > 0 ? candidates : [{ id: '', secretHash: DECOY_HASH }]) {
    if (hashesEqual(candidate.secretHash, presentedHash) && candidate.id !== '') matched = candidate.id;
  }
  return matched;
}

/**
 * Replaces oidc-provider's plain comparison of client secrets with the check against stored
 * hashes. `Client.prototype.compareClientSecret` is the documented extension point for this.
 */
export function installSecretCheck(provider: Provider, clients: ClientStore, keys: { secretHash: Buffer }, clock: Clock, hooks: SecretCheckHooks): void {
  const prototype = provider.Client.prototype as unknown as { compareClientSecret(this: { clientId: string }, actual: string): Promise<boolean> };

  prototype.compareClientSecret = async function compareClientSecret(actual: string): Promise<boolean> {
    await Promise.resolve(hooks.beforeCheck?.(this.clientId)).catch((err: unknown) => Promise.reject(toRateLimitedProviderError(err)));

    let client: KnownClient | undefined;
    try {
      client = await clients.findClient(this.clientId);
    } catch (err) {
      throw toProviderError(err);
    }
    const secretId = verifyClientSecret(keys, client, actual, clock.now());
    if (secretId === undefined) {
      await Promise.resolve(hooks.onFailure(this.clientId)).catch((err: unknown) => Promise.reject(toRateLimitedProviderError(err)));
      return false;
    }
    hooks.onSecretUsed(secretId);
    return true;
  };
}
