import type { Knex } from 'knex';

import type { Api } from '../domain/types.js';
import { listApis } from '../storage/apis.js';

/**
 * The registered APIs, held in memory for the token endpoint's synchronous audience checks.
 * Refreshed after every change that this process makes or detects.
 */
export class ApiCatalogue {
  #apis: Api[] = [];

  constructor(private readonly db: Knex) {}

  get apis(): readonly Api[] {
    return this.#apis;
  }

  async refresh(): Promise<void> {
    this.#apis = await listApis(this.db);
  }

  defaultAudience(): string | undefined {
    return this.#apis.find((api) => api.isDefault)?.audience;
  }

  has(audience: string): boolean {
    return this.#apis.some((api) => api.audience === audience);
  }
}
