import type { Knex } from 'knex';

// Timestamps are epoch milliseconds in BIGINT columns: one representation on SQLite and
// Postgres, compared as numbers, and moved by the tests' clock without time-zone surprises.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('networks', (t) => {
    t.string('id', 40).primary();
    t.string('name', 200).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  // A tenant ID belongs to exactly one network platform-wide, hence the global primary key.
  await knex.schema.createTable('tenants', (t) => {
    t.string('tenant_id', 64).primary();
    t.string('network_id', 40).notNullable().references('id').inTable('networks').onDelete('CASCADE');
    t.bigInteger('created_at').notNullable();
    t.unique(['network_id', 'tenant_id']);
  });

  await knex.schema.createTable('apis', (t) => {
    t.string('id', 40).primary();
    t.string('audience', 500).notNullable().unique();
    t.string('name', 200).notNullable();
    t.boolean('is_default').notNullable().defaultTo(false);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await knex.schema.createTable('api_scopes', (t) => {
    t.string('api_id', 40).notNullable().references('id').inTable('apis').onDelete('CASCADE');
    t.string('scope', 100).notNullable();
    t.string('description', 500).notNullable();
    t.primary(['api_id', 'scope']);
  });

  await knex.schema.createTable('developer_orgs', (t) => {
    t.string('id', 40).primary();
    t.string('name', 200).notNullable();
    t.bigInteger('created_at').notNullable();
  });

  await knex.schema.createTable('apps', (t) => {
    t.string('id', 40).primary();
    t.string('org_id', 40).nullable().references('id').inTable('developer_orgs');
    t.string('name', 200).notNullable();
    t.string('developer_name', 200).notNullable();
    t.text('description').notNullable();
    t.string('homepage_url', 2000).nullable();
    t.string('logo_url', 2000).nullable();
    t.boolean('published').notNullable().defaultTo(false);
    t.integer('token_ttl').notNullable();
    t.integer('terms_version').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await knex.schema.createTable('app_terms', (t) => {
    t.string('app_id', 40).notNullable().references('id').inTable('apps').onDelete('CASCADE');
    t.integer('version').notNullable();
    t.text('text').notNullable();
    t.bigInteger('created_at').notNullable();
    t.primary(['app_id', 'version']);
  });

  await knex.schema.createTable('app_scopes', (t) => {
    t.string('app_id', 40).notNullable().references('id').inTable('apps').onDelete('CASCADE');
    t.string('api_id', 40).notNullable().references('id').inTable('apis');
    t.string('scope', 100).notNullable();
    t.string('reason', 500).notNullable();
    t.primary(['app_id', 'api_id', 'scope']);
  });

  await knex.schema.createTable('groups', (t) => {
    t.string('id', 40).primary();
    t.string('network_id', 40).notNullable().references('id').inTable('networks').onDelete('CASCADE');
    t.string('name', 200).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.unique(['network_id', 'name']);
  });

  await knex.schema.createTable('group_tenants', (t) => {
    t.string('network_id', 40).notNullable();
    t.string('group_id', 40).notNullable().references('id').inTable('groups').onDelete('CASCADE');
    t.string('tenant_id', 64).notNullable().references('tenant_id').inTable('tenants').onDelete('CASCADE');
    t.primary(['group_id', 'tenant_id']);
    t.index(['tenant_id']);
  });

  // group_id has no foreign key: a disconnected connection outlives its deleted group as history.
  await knex.schema.createTable('connections', (t) => {
    t.string('id', 40).primary();
    t.string('network_id', 40).notNullable().references('id').inTable('networks').onDelete('CASCADE');
    t.string('group_id', 40).notNullable();
    t.string('app_id', 40).notNullable().references('id').inTable('apps');
    t.string('client_id', 64).notNullable().unique();
    t.string('status', 20).notNullable();
    t.string('consent_id', 40).nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.index(['network_id', 'group_id']);
    t.index(['app_id']);
  });
  // At most one live connection per group and app; disconnected ones stay as history.
  await knex.raw(
    "create unique index connections_live_group_app_unique on connections (group_id, app_id) where status <> 'disconnected'",
  );

  await knex.schema.createTable('consents', (t) => {
    t.string('id', 40).primary();
    t.string('network_id', 40).notNullable();
    t.string('connection_id', 40).notNullable().references('id').inTable('connections').onDelete('CASCADE');
    t.string('approved_by', 320).notNullable();
    t.bigInteger('approved_at').notNullable();
    // JSON array of {"api_id", "audience", "scope"} as approved on the Allow Access screen.
    t.text('scopes').notNullable();
    t.integer('terms_version').notNullable();
    t.index(['connection_id']);
  });

  await knex.schema.createTable('client_secrets', (t) => {
    t.string('id', 40).primary();
    t.string('network_id', 40).notNullable();
    t.string('connection_id', 40).notNullable().references('id').inTable('connections').onDelete('CASCADE');
    // HMAC-SHA256 of the secret under a key derived from DATA_KEY, hex; never the secret itself.
    t.string('secret_hash', 64).notNullable();
    // The last four characters, so an administrator can tell two secrets apart.
    t.string('hint', 8).notNullable();
    t.string('created_by', 320).notNullable();
    t.bigInteger('created_at').notNullable();
    // NULL while the secret is current; set when a rotation starts its grace period.
    t.bigInteger('expires_at').nullable();
    t.bigInteger('revoked_at').nullable();
    t.bigInteger('last_used_at').nullable();
    t.index(['connection_id']);
  });

  await knex.schema.createTable('signing_keys', (t) => {
    t.string('kid', 64).primary();
    t.string('alg', 16).notNullable();
    // next: published, not signing; active: signing; retired: published until expires_at.
    t.string('state', 16).notNullable();
    t.text('public_jwk').notNullable();
    // AES-256-GCM under a key derived from DATA_KEY, with the kid as additional data.
    t.text('encrypted_private_jwk').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('activated_at').nullable();
    t.bigInteger('retired_at').nullable();
    t.bigInteger('expires_at').nullable();
  });

  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('id').primary();
    t.string('network_id', 40).nullable();
    t.bigInteger('occurred_at').notNullable();
    t.string('actor', 320).notNullable();
    t.string('action', 80).notNullable();
    t.string('target_type', 40).notNullable();
    t.string('target_id', 200).nullable();
    t.string('request_id', 80).nullable();
    t.string('outcome', 20).notNullable();
    t.text('details').notNullable();
    t.index(['network_id', 'id']);
  });

  // Each API's own client for RFC 7662 introspection; resource servers are not connections.
  await knex.schema.createTable('introspection_clients', (t) => {
    t.string('client_id', 64).primary();
    t.string('api_id', 40).notNullable().references('id').inTable('apis').onDelete('CASCADE');
    t.string('secret_hash', 64).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('revoked_at').nullable();
    t.index(['api_id']);
  });

  // Revoked JWTs (RFC 7009), kept by jti until the token's own expiry.
  await knex.schema.createTable('revoked_tokens', (t) => {
    t.string('jti', 64).primary();
    t.string('client_id', 64).notNullable();
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('revoked_at').notNullable();
    t.index(['expires_at']);
  });

  // One row whose value every committed change increments, so any process can tell with a
  // single primary-key read whether its caches are still current.
  await knex.schema.createTable('cache_epoch', (t) => {
    t.integer('id').primary();
    t.bigInteger('value').notNullable();
  });
  await knex('cache_epoch').insert({ id: 1, value: 0 });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'cache_epoch',
    'revoked_tokens',
    'introspection_clients',
    'audit_events',
    'signing_keys',
    'client_secrets',
    'consents',
    'connections',
    'group_tenants',
    'groups',
    'app_scopes',
    'app_terms',
    'apps',
    'developer_orgs',
    'api_scopes',
    'apis',
    'tenants',
    'networks',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
