import type { Knex } from 'knex';

// Keys for the admin JSON API under /api/v1. A key acts as its user, with the user's current
// roles, inside the user's network; only an HMAC of the key is stored.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('admin_api_keys', (t) => {
    t.string('id', 40).primary();
    t.string('network_id', 40).notNullable().references('id').inTable('networks').onDelete('CASCADE');
    t.string('user_id', 40).notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('name', 200).notNullable();
    t.string('key_hash', 64).notNullable().unique();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('revoked_at').nullable();
    t.index(['network_id', 'user_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('admin_api_keys');
}
