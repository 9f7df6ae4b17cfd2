import type { Knex } from 'knex';

// A second counter beside the cache epoch, bumped with every revocation. Instances cache "not
// revoked" answers until it moves, without emptying their client and key caches as a bump of
// the cache epoch would.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('cache_epoch', (t) => {
    t.bigInteger('revocations').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('cache_epoch', (t) => {
    t.dropColumn('revocations');
  });
}
