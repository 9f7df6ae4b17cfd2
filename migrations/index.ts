import type { Knex } from 'knex';

import * as core from './20261204000000_core.js';
import * as hubAccounts from './20261204100000_hub_accounts.js';
import * as developerPortal from './20261204200000_developer_portal.js';
import * as rateLimits from './20261204300000_rate_limits.js';
import * as auditAppendOnly from './20261204400000_audit_append_only.js';
import * as adminApiKeys from './20261204500000_admin_api_keys.js';
import * as revocationEpoch from './20261205000000_revocation_epoch.js';

export interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

// Migrations are listed here instead of read from the directory, so the same code path runs
// them from the compiled CLI, from the server and inside the test runner. Append new ones;
// never edit or reorder a released migration.
export const migrations: ReadonlyArray<readonly [name: string, migration: Migration]> = [
  ['20261204000000_core', core],
  ['20261204100000_hub_accounts', hubAccounts],
  ['20261204200000_developer_portal', developerPortal],
  ['20261204300000_rate_limits', rateLimits],
  ['20261204400000_audit_append_only', auditAppendOnly],
  ['20261204500000_admin_api_keys', adminApiKeys],
  ['20261205000000_revocation_epoch', revocationEpoch],
];
