import type { Knex } from 'knex';

// Developer accounts for the portal (My Apps), the invitations operators send, and the portal's
// own settings. Timestamps are epoch milliseconds, as in the core migration.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('developer_orgs', (t) => {
    t.unique(['name']);
  });

  await knex.schema.createTable('developers', (t) => {
    t.string('id', 40).primary();
    t.string('org_id', 40).notNullable().references('id').inTable('developer_orgs').onDelete('CASCADE');
    // Stored lower-cased, so the unique index makes sign-in case-insensitive.
    t.string('email', 320).notNullable().unique();
    t.string('password_hash', 200).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.bigInteger('disabled_at').nullable();
    t.index(['org_id']);
  });

  await knex.schema.createTable('developer_invitations', (t) => {
    t.string('id', 40).primary();
    t.string('org_id', 40).notNullable().references('id').inTable('developer_orgs').onDelete('CASCADE');
    t.string('email', 320).notNullable();
    // HMAC-SHA256 of the one-time token under a key derived from DATA_KEY, hex; never the token.
    t.string('token_hash', 64).notNullable().unique();
    t.string('created_by', 320).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('accepted_at').nullable();
    t.index(['email']);
  });

  await knex.schema.createTable('portal_settings', (t) => {
    t.string('name', 80).primary();
    t.text('value').notNullable();
    t.bigInteger('updated_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('portal_settings');
  await knex.schema.dropTableIfExists('developer_invitations');
  await knex.schema.dropTableIfExists('developers');
  await knex.schema.alterTable('developer_orgs', (t) => {
    t.dropUnique(['name']);
  });
}
