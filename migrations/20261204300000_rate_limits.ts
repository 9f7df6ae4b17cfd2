import type { Knex } from 'knex';

// Per-app limits on token requests, set by the operator. NULL means the server default
// (50 requests per second with a burst of 100); each connection client of the app gets its own
// bucket of this size.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('apps', (t) => {
    t.integer('token_rate_limit').nullable();
    t.integer('token_burst_limit').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('apps', (t) => {
    t.dropColumn('token_rate_limit');
    t.dropColumn('token_burst_limit');
  });
}
