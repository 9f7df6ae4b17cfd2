import type { Knex } from 'knex';
import { LRUCache } from 'lru-cache';

import { CLIENT_ID_PATTERN } from '../crypto/client-secret.js';
import { findClientRecord, type ClientRecord } from '../storage/connections.js';
import { isGroupMember } from '../storage/groups.js';
import { validSecretHashes } from '../storage/secrets.js';
import { findIntrospectionClient } from '../storage/introspection-clients.js';
import type { Clock } from '../domain/types.js';
import { readStorage } from './storage-unavailable.js';

export interface StoredSecret {
  id: string;
  secretHash: string;
  /** Epoch ms after which the secret no longer authenticates; null while current. */
  expiresAt: number | null;
}

export interface ConnectionClient {
  kind: 'connection';
  clientId: string;
  record: ClientRecord;
  secrets: StoredSecret[];
  /** Consented scopes per API audience. */
  scopesByAudience: ReadonlyMap<string, readonly string[]>;
}

export interface IntrospectionClient {
  kind: 'introspection';
  clientId: string;
  apiId: string;
  audience: string;
  secrets: StoredSecret[];
}

export type KnownClient = ConnectionClient | IntrospectionClient;

// Bounds that keep memory flat as data grows: 50,000 clients and 500,000 membership results
// stay well under 100 MB, and a miss costs one indexed query.
const CLIENT_CACHE_MAX = 50_000;
const MEMBERSHIP_CACHE_MAX = 500_000;

const NOT_FOUND = Symbol('not found');

/**
 * In-process cache for the token endpoint's two lookups: client by ID and tenant membership.
 * Every entry is dropped on `invalidate()`, which runs after every committed change and when
 * another process's change is detected; a load that raced with an invalidation is not cached.
 * A failed database read rejects with StorageUnavailableError.
 */
export class ClientStore {
  readonly #clients = new LRUCache<string, KnownClient | typeof NOT_FOUND>({ max: CLIENT_CACHE_MAX });
  readonly #membership = new LRUCache<string, boolean>({ max: MEMBERSHIP_CACHE_MAX });
  #generation = 0;
  #bypass = false;

  constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {}

  invalidate(): void {
    this.#generation += 1;
    this.#clients.clear();
    this.#membership.clear();
  }

  /** While set, every lookup reads the database (used when cross-instance invalidation is down). */
  set bypassCache(value: boolean) {
    this.#bypass = value;
    if (value) this.invalidate();
  }

  async findClient(clientId: string): Promise<KnownClient | undefined> {
    // Every client ID tenantgate issues has this shape; anything else cannot exist, and must not
    // reach SQL (Postgres rejects a NUL byte in text with an error, not an empty result).
    if (!CLIENT_ID_PATTERN.test(clientId)) return undefined;
    const cached = this.#bypass ? undefined : this.#clients.get(clientId);
    if (cached !== undefined) return cached === NOT_FOUND ? undefined : cached;

    const generation = this.#generation;
    const loaded = await readStorage(() => this.#load(clientId));
    if (generation === this.#generation && !this.#bypass) this.#clients.set(clientId, loaded ?? NOT_FOUND);
    return loaded;
  }

  async isMember(groupId: string, tenantId: string): Promise<boolean> {
    const key = `${groupId}\u0000${tenantId}`;
    const cached = this.#bypass ? undefined : this.#membership.get(key);
    if (cached !== undefined) return cached;

    const generation = this.#generation;
    const member = await readStorage(() => isGroupMember(this.db, groupId, tenantId));
    if (generation === this.#generation && !this.#bypass) this.#membership.set(key, member);
    return member;
  }

  async #load(clientId: string): Promise<KnownClient | undefined> {
    const now = this.clock.now();
    const record = await findClientRecord(this.db, clientId);
    if (record) {
      const secrets = await validSecretHashes(this.db, record.connectionId, now);
      const scopesByAudience = new Map<string, string[]>();
      for (const consented of record.consent?.scopes ?? []) {
        const list = scopesByAudience.get(consented.audience) ?? [];
        list.push(consented.scope);
        scopesByAudience.set(consented.audience, list);
      }
      return { kind: 'connection', clientId, record, secrets, scopesByAudience };
    }

    const introspector = await findIntrospectionClient(this.db, clientId, now);
    if (introspector) return { kind: 'introspection', clientId, ...introspector };
    return undefined;
  }
}
