import { randomBytes } from 'node:crypto';

import { LRUCache } from 'lru-cache';
import type { Adapter, AdapterPayload } from 'oidc-provider';


import type { KeyValueStore } from '../shared-state/kv-store.js';

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

// Lifetime given to a stored model that oidc-provider saves without an expiry.
const UNBOUNDED_MODEL_TTL_MS = 24 * 3600 * 1000;

interface StoredModel {
  payload: AdapterPayload;
  /** Epoch ms when the entry expires, kept so `consume` can write it back with the time left. */
  expiresAt: number;
}

/**
 * Keeps oidc-provider's stored models in the shared store (Redis), so every instance sees the
 * same ones. While the store rejects (Redis unreachable), the instance uses its in-process copy:
 * a model saved during the outage is then known only to the instance that saved it.
 */
class SharedAdapter implements Adapter {
  readonly #memory: MemoryAdapter;

  constructor(
    private readonly model: string,
    private readonly store: KeyValueStore,
    memory: LRUCache<string, AdapterPayload>,
  ) {
    this.#memory = new MemoryAdapter(model, memory);
  }

  #key(id: string): string {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const ttlMs = expiresIn > 0 ? expiresIn * 1000 : UNBOUNDED_MODEL_TTL_MS;
    const entry: StoredModel = { payload, expiresAt: Date.now() + ttlMs };
    await this.#memory.upsert(id, payload, expiresIn);
    await this.store.set(this.#key(id), JSON.stringify(entry), ttlMs).catch(() => undefined);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    try {
      const raw = await this.store.get(this.#key(id));
      return raw === undefined ? undefined : (JSON.parse(raw) as StoredModel).payload;
    } catch {
      return this.#memory.find(id);
    }
  }

  async findByUserCode(): Promise<undefined> {
    return undefined;
  }

  async findByUid(): Promise<undefined> {
    return undefined;
  }

  async consume(id: string): Promise<void> {
    await this.#memory.consume(id);
    try {
      const raw = await this.store.get(this.#key(id));
      if (raw === undefined) return;
      const entry = JSON.parse(raw) as StoredModel;
      entry.payload.consumed = Math.floor(Date.now() / 1000);
      await this.store.set(this.#key(id), JSON.stringify(entry), entry.expiresAt - Date.now());
    } catch {
      // The in-process copy above is marked; the shared one is updated when Redis returns only
      // if the model is saved again.
    }
  }

  async destroy(id: string): Promise<void> {
    await this.#memory.destroy(id);
    await this.store.delete(this.#key(id)).catch(() => undefined);
  }

  async revokeByGrantId(): Promise<void> {}
}

// oidc-provider requires a client_secret in the metadata of a client_secret_* client. The real
// check is the stored hash (see client-secret.ts); this random stand-in is never compared, and
// no HMAC-based client authentication method is enabled that could use it as a key.
const SECRET_STAND_IN = randomBytes(32).toString('base64url');

// Shorter than any generated client ID, so no connection can ever have it.
const UNKNOWN_CLIENT_ID = 'tgc_-';
const VSCHAR = /^[\x20-\x7e]+$/;

/**
 * Serves oidc-provider's Client model from connections. Every client ID gets the same metadata,
 * known or not: whether the client exists and is active is decided only in compareClientSecret,
 * so an unknown client, a disabled one and a wrong secret fail on one path, in the same time,
 * with the same `invalid_client` answer.
 */
class ConnectionClientAdapter implements Adapter {
  async find(clientId: string): Promise<AdapterPayload | undefined> {
    return {
      // An ID with characters outside RFC 6749's VSCHAR (%x20-7E, a NUL say) would fail
      // oidc-provider's metadata validation with invalid_client_metadata; it gets an ID that
      // exists nowhere, so it fails client authentication like any unknown client. Other IDs
      // stay as sent, so failures are counted against the ID the caller used.
      client_id: VSCHAR.test(clientId) ? clientId : UNKNOWN_CLIENT_ID,
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

/** Builds oidc-provider's adapter: clients from connections, other models in `shared` or in process. */
export function createAdapterFactory(shared?: KeyValueStore): (name: string) => Adapter {
  const ephemeral = new LRUCache<string, AdapterPayload>({ max: EPHEMERAL_MAX });
  const clients = new ConnectionClientAdapter();
  return (name: string) => {
    if (name === 'Client') return clients;
    return shared ? new SharedAdapter(name, shared, ephemeral) : new MemoryAdapter(name, ephemeral);
  };
}
