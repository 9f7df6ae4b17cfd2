import type Provider from 'oidc-provider';

import type { DomainContext } from '../domain/context.js';
import type { Logger } from '../logger.js';
import { FreshRun } from './fresh-run.js';
import { buildProvider, type ProviderOptions } from './provider.js';
import { loadKeys, type LoadedKeys } from './signing-keys.js';

function fingerprint(keys: LoadedKeys): string {
  return [keys.activeKid, ...keys.privateJwks.map((jwk) => jwk.kid)].join(',');
}

/**
 * Holds the provider built from the current signing keys. When the stored keys change (a
 * rotation, an expired retired key), a new provider is built and swapped in for new requests;
 * requests already inside the old one finish there.
 */
export class ProviderHolder {
  #provider: Provider;
  #keys: LoadedKeys;
  readonly #reloads = new FreshRun(() => this.#reload());

  private constructor(
    private readonly ctx: DomainContext,
    private readonly options: Omit<ProviderOptions, 'keys'>,
    private readonly logger: Logger,
    keys: LoadedKeys,
    private readonly onSwap: (provider: Provider) => void,
  ) {
    this.#keys = keys;
    this.#provider = buildProvider({ ...options, keys });
    onSwap(this.#provider);
  }

  static async create(ctx: DomainContext, options: Omit<ProviderOptions, 'keys'>, logger: Logger, onSwap: (provider: Provider) => void): Promise<ProviderHolder> {
    const keys = await loadKeys(ctx, ctx.clock.now());
    return new ProviderHolder(ctx, options, logger, keys, onSwap);
  }

  get provider(): Provider {
    return this.#provider;
  }

  get keys(): LoadedKeys {
    return this.#keys;
  }

  /**
   * Reloads the keys and swaps the provider when they differ. A call made while a reload runs
   * waits for the next reload (`FreshRun`), because the running one may have read the keys before
   * the change that prompted the call.
   */
  reload(): Promise<void> {
    return this.#reloads.run();
  }

  async #reload(): Promise<void> {
    const keys = await loadKeys(this.ctx, this.ctx.clock.now());
    if (fingerprint(keys) === fingerprint(this.#keys)) return;

    this.#keys = keys;
    this.#provider = buildProvider({ ...this.options, keys });
    this.onSwap(this.#provider);
    this.logger.info({ active_kid: keys.activeKid, kids: keys.privateJwks.map((jwk) => jwk.kid) }, 'signing keys changed; provider rebuilt');
  }
}
