import type { Knex } from 'knex';

import { loadConfig } from './src/config.js';
import { knexConfig } from './src/storage/db.js';

// For operators who prefer the knex CLI; `tenantgate migrate` does the same with no extra tool.
const config: Knex.Config = knexConfig(loadConfig().databaseUrl);
export default config;
