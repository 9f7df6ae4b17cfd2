import type { Knex } from 'knex';

// Accounts of the hub and the operator pages: users, per-network roles with permissions,
// one-time sign-in links and server-side sessions. Timestamps are epoch milliseconds.

export async function up(knex: Knex): Promise<void> {
  // network_id is null for operators, who belong to no network.
  await knex.schema.createTable('users', (t) => {
    t.string('id', 40).primary();
    t.string('network_id', 40).nullable().references('id').inTable('networks').onDelete('CASCADE');
    t.string('email', 320).notNullable().unique();
    t.string('name', 200).notNullable();
    t.string('password_hash', 200).nullable();
    t.boolean('is_operator').notNullable().defaultTo(false);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.bigInteger('last_sign_in_at').nullable();
    t.index(['network_id']);
  });

  await knex.schema.createTable('roles', (t) => {
    t.string('id', 40).primary();
    t.string('network_id', 40).notNullable().references('id').inTable('networks').onDelete('CASCADE');
    t.string('name', 200).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.unique(['network_id', 'name']);
  });

  await knex.schema.createTable('role_permissions', (t) => {
    t.string('role_id', 40).notNullable().references('id').inTable('roles').onDelete('CASCADE');
    t.string('network_id', 40).notNullable();
    t.string('permission', 60).notNullable();
    t.primary(['role_id', 'permission']);
  });

  await knex.schema.createTable('user_roles', (t) => {
    t.string('user_id', 40).notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.string('role_id', 40).notNullable().references('id').inTable('roles').onDelete('CASCADE');
    t.string('network_id', 40).notNullable();
    t.primary(['user_id', 'role_id']);
    t.index(['role_id']);
  });

  // Only a keyed hash of each link's token is stored, so a database read yields no usable link.
  await knex.schema.createTable('sign_in_links', (t) => {
    t.string('token_hash', 64).primary();
    t.string('user_id', 40).notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('used_at').nullable();
    t.index(['user_id']);
  });

  // Sessions when Redis is not configured; keyed by a hash of the cookie value, for the same
  // reason. The subject is `user:<id>` or another area's account (the developer portal's), so
  // it has no foreign key.
  await knex.schema.createTable('web_sessions', (t) => {
    t.string('id_hash', 64).primary();
    t.string('subject', 80).notNullable();
    t.text('data').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['subject']);
    t.index(['expires_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['web_sessions', 'sign_in_links', 'user_roles', 'role_permissions', 'roles', 'users']) {
    await knex.schema.dropTableIfExists(table);
  }
}
