import { LRUCache } from 'lru-cache';
import type { Provider } from 'oidc-provider';

type ClientModel = InstanceType<Provider['Client']>;

// oidc-provider 9 keeps only 100 adapter-loaded Client models (its dynamicClients LRU), so with
// more active connection clients than that it validated and built a model on almost every token
// request. A model takes about 1.4 KB of heap (measured with oidc-provider 9.13), so 20,000 of
// them, twice the large-network benchmark's 10,000 connection clients, take about 28 MB.
const CLIENT_MODEL_CACHE_MAX = 20_000;

/**
 * Caches oidc-provider's Client model per client ID for the life of the provider. This is safe
 * because the model carries no decision: the adapter gives every client ID the same metadata,
 * and whether a client exists, is active and presented a valid secret is checked on every
 * request in compareClientSecret against the client store, which every change invalidates.
 */
export function installClientModelCache(provider: Provider): void {
  const Client = provider.Client as unknown as { find(id: string): Promise<ClientModel | undefined> };
  const load = Client.find.bind(Client);
  const models = new LRUCache<string, ClientModel>({ max: CLIENT_MODEL_CACHE_MAX });

  Client.find = async function findClientModel(id: string): Promise<ClientModel | undefined> {
    if (typeof id !== 'string') return load(id);
    const cached = models.get(id);
    if (cached) return cached;

    const model = await load(id);
    if (model) models.set(id, model);
    return model;
  };
}
