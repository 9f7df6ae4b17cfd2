import type { Knex } from 'knex';

// A counter of revocations beside the cache epoch. Instances keep "not revoked" results until it
// moves, without emptying their client and key caches as a bump of the cache epoch would.
//
// A trigger increments it, so every writer of `revoked_tokens` counts, including an instance of
// the previous release during a rolling upgrade. It lives in a table of its own so that a
// revocation never waits for the cache epoch's row lock, which a long change holds.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('revocation_epoch', (t) => {
    t.integer('id').primary();
    t.bigInteger('value').notNullable();
  });
  await knex('revocation_epoch').insert({ id: 1, value: 0 });

  // An insert that `on conflict do nothing` skips adds no row, so it fires no row trigger: a
  // token revoked twice moves the counter once.
  if (knex.client.config.client === 'pg') {
    await knex.raw(`
      create function tenantgate_count_revocation() returns trigger language plpgsql as $$
      begin
        update revocation_epoch set value = value + 1 where id = 1;
        return null;
      end
      $$`);
    await knex.raw(`
      create trigger revoked_tokens_count after insert on revoked_tokens
      for each row execute function tenantgate_count_revocation()`);
    return;
  }
  await knex.raw(`
    create trigger revoked_tokens_count after insert on revoked_tokens
    begin update revocation_epoch set value = value + 1 where id = 1; end`);
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'pg') {
    await knex.raw('drop trigger if exists revoked_tokens_count on revoked_tokens');
    await knex.raw('drop function if exists tenantgate_count_revocation()');
  } else {
    await knex.raw('drop trigger if exists revoked_tokens_count');
  }
  await knex.schema.dropTableIfExists('revocation_epoch');
}
