import { randomBytes } from 'node:crypto';

import { LRUCache } from 'lru-cache';
import type { Adapter, AdapterPayload } from 'oidc-provider';

// oidc-provider stores few artifacts for the client_credentials grant: JWT access tokens are
// not stored at all. What remains (replay detection, for example) is short-lived and bounded.
const EPHEMERAL_MAX = 100_000;

class MemoryAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly store: LRUCache<string, AdapterPayload>,
  ) {}

  #key(id: string): string {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    this.store.set(this.#key(id), payload, expiresIn > 0 ? { ttl: expiresIn * 1000 } : {});
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.store.get(this.#key(id));
  }

  async findByUserCode(): Promise<undefined> {
    return undefined;
  }

  async findByUid(): Promise<undefined> {
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const payload = this.store.get(this.#key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.store.delete(this.#key(id));
  }

  async revokeByGrantId(): Promise<void> {}
}

// oidc-provider requires a client_secret in the metadata of a client_secret_* client. The real
// check is the stored hash (see client-secret.ts); this random stand-in is never compared, and
// no HMAC-based client authentication method is enabled that could use it as a key.
const SECRET_STAND_IN = randomBytes(32).toString('base64url');

/**
 * Serves oidc-provider's Client model from connections. Every client ID gets the same metadata,
 * known or not: whether the client exists and is active is decided only in compareClientSecret,
 * so an unknown client, a disabled one and a wrong secret fail on one path, in the same time,
 * with the same `invalid_client` answer.
 */
class ConnectionClientAdapter implements Adapter {
  async find(clientId: string): Promise<AdapterPayload | undefined> {
    return {
      client_id: clientId,
      client_secret: SECRET_STAND_IN,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    };
  }

  async upsert(): Promise<void> {
    throw new Error('clients are created from connections, not through oidc-provider');
  }

  async findByUserCode(): Promise<undefined> {
    return undefined;
  }

  async findByUid(): Promise<undefined> {
    return undefined;
  }

  async consume(): Promise<void> {}

  async destroy(): Promise<void> {}

  async revokeByGrantId(): Promise<void> {}
}

export function createAdapterFactory(): (name: string) => Adapter {
  const ephemeral = new LRUCache<string, AdapterPayload>({ max: EPHEMERAL_MAX });
  const clients = new ConnectionClientAdapter();
  return (name: string) => (name === 'Client' ? clients : new MemoryAdapter(name, ephemeral));
}
