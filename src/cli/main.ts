#!/usr/bin/env node
import { userInfo } from 'node:os';

import { Command, CommanderError, Option } from 'commander';

import { createDomainContext } from '../runtime.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { createAdminApiKey, listAdminKeys, revokeAdminKey } from '../domain/admin-api-keys.js';
import { createNetworkAdmin, createUser } from '../domain/accounts.js';
import { createApi } from '../domain/apis.js';
import { createApp, requireApp } from '../domain/apps.js';
import { connectApp } from '../domain/connections.js';
import type { DomainContext } from '../domain/context.js';
import { DomainError } from '../domain/errors.js';
import { createGroup, deleteGroup, updateGroup } from '../domain/groups.js';
import { createNetwork, requireNetwork } from '../domain/networks.js';
import { generateSecret, revokeAllSecrets } from '../domain/secrets.js';
import { addTenants } from '../domain/tenants.js';
import { systemClock, type Actor } from '../domain/types.js';
import { activateNextKey, ensureSigningKey, listKeys, publishNextKey } from '../oauth/signing-keys.js';
import { exportAuditEvents } from '../storage/audit.js';
import { findConnectionNetwork } from '../storage/connections.js';
import { findGroupNetwork } from '../storage/groups.js';
import { migrateLatest, openDb, type Db } from '../storage/db.js';
import { ChangeNotices } from './change-notices.js';
import { buildDemo } from './demo.js';
import { addPortalCommands } from './portal-commands.js';
import { addRateLimitCommands } from './rate-limit-commands.js';
import { print, printError, type Output } from './output.js';

interface Session {
  config: Config;
  db: Db;
  ctx: DomainContext;
  actor: Actor;
  notices: ChangeNotices;
}

// Bound on how long `keys rotate` waits for every running instance to publish the next key.
const INSTANCE_KEY_WAIT_MS = 30_000;

/** Opens the database (migrating it first) for one command, and closes it afterwards. */
async function withSession<T>(work: (session: Session) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const db = openDb(config.databaseUrl);
  const notices = new ChangeNotices(config);
  try {
    await migrateLatest(db);
    // The CLI keeps no caches; running servers see its changes through the cache epoch, and
    // with Redis also through a change notice.
    const ctx = createDomainContext(config, db, systemClock, () => notices.notify());
    return await work({ config, db, ctx, actor: { id: `cli:${userInfo().username}` }, notices });
  } finally {
    await notices.close();
    await db.destroy();
  }
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

function integer(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new CommanderError(2, 'tenantgate.invalid', `${name} must be a whole number, got ${JSON.stringify(value)}`);
    return Number(value);
  };
}

function output(command: Command): Output {
  return command.optsWithGlobals<{ json?: boolean }>().json ? 'json' : 'text';
}

export function buildCli(): Command {
  const program = new Command('tenantgate')
    .description('tenantgate: OAuth 2.0 authorization server for tenant-scoped API access')
    .option('--json', 'print one JSON document on stdout and nothing else there')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('migrate')
    .description('apply pending database migrations')
    .action(async (_options, command: Command) => {
      const config = loadConfig();
      const db = openDb(config.databaseUrl);
      try {
        const applied = await migrateLatest(db);
        print(output(command), { applied }, () => (applied.length ? `applied ${applied.join(', ')}` : 'database is up to date'));
      } finally {
        await db.destroy();
      }
    });

  const network = program.command('network').description('manage networks (one per customer)');
  network
    .command('create')
    .description('create a network and print its generated ID')
    .requiredOption('--name <name>', 'display name of the customer network')
    .action(async (options: { name: string }, command: Command) => {
      await withSession(async ({ ctx, actor }) => {
        const created = await createNetwork(ctx, actor, { name: options.name });
        print(output(command), { id: created.id, name: created.name }, () => `network ${created.id} (${created.name})`);
      });
    });

  const user = program.command('user').description('manage hub and operator users');
  user
    .command('create')
    .description("create a network's administrator (--network) or an operator (--operator) and print a one-time sign-in link")
    .requiredOption('--email <email>', 'e-mail address the user signs in with')
    .option('--name <name>', 'display name (default: the e-mail address)')
    .option('--network <id>', "network ID: the user becomes an administrator of it (role 'Administrator', User Management)")
    .option('--operator', 'create an operator, who belongs to no network')
    .action(async (options: { email: string; name?: string; network?: string; operator?: boolean }, command: Command) => {
      if (Boolean(options.network) === Boolean(options.operator)) {
        throw new CommanderError(2, 'tenantgate.invalid', 'give exactly one of --network <id> and --operator');
      }
      await withSession(async ({ config, ctx, actor }) => {
        const { user: created, link } = options.network
          ? await createNetworkAdmin(ctx, actor, options.network, { email: options.email, name: options.name })
          : await createUser(ctx, actor, { networkId: null, email: options.email, name: options.name });
        const url = `${config.issuer}${link.path}`;
        const document = {
          id: created.id,
          email: created.email,
          network_id: created.networkId,
          operator: created.isOperator,
          sign_in_link: url,
          expires_at: new Date(link.expiresAt).toISOString(),
        };
        print(output(command), document, () => `user ${created.id} (${created.email}); one-time sign-in link, valid until ${document.expires_at}:\n  ${url}`);
      });
    });

  const tenant = program.command('tenant').description('manage the tenant IDs of a network');
  tenant
    .command('add')
    .description('add tenant IDs to a network; invalid or foreign IDs are listed with the reason')
    .requiredOption('--network <id>', 'network ID')
    .argument('<tenant-ids...>', 'tenant IDs, separated by spaces or commas')
    .action(async (ids: string[], options: { network: string }, command: Command) => {
      await withSession(async ({ ctx, actor }) => {
        const result = await addTenants(ctx, actor, options.network, ids.flatMap(list));
        print(output(command), result, () =>
          [
            `added ${result.added.length}, already present ${result.existing.length}, rejected ${result.rejected.length}`,
            ...result.rejected.map((r) => `  rejected ${JSON.stringify(r.tenantId)}: ${r.reason}`),
          ].join('\n'),
        );
        if (result.rejected.length > 0) process.exitCode = 1;
      });
    });

  program
    .command('api')
    .description('manage the API catalogue')
    .command('create')
    .description('register a resource server and print its introspection client ID and secret (shown once)')
    .requiredOption('--audience <uri>', 'audience URI that tokens for this API carry in "aud"')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--scope <scope=description...>', 'a scope and its plain-words description; repeat for each scope')
    .action(async (options: { audience: string; name: string; scope: string[] }, command: Command) => {
      await withSession(async ({ ctx, actor }) => {
        const scopes = options.scope.map((entry) => {
          const [scope = '', ...rest] = entry.split('=');
          return { scope, description: rest.join('=') || scope };
        });
        const { api, introspection } = await createApi(ctx, actor, { audience: options.audience, name: options.name, scopes });
        print(
          output(command),
          {
            id: api.id,
            audience: api.audience,
            default: api.isDefault,
            scopes: api.scopes.map((s) => s.scope),
            introspection_client_id: introspection.clientId,
            introspection_client_secret: introspection.clientSecret,
          },
          () =>
            [
              `api ${api.id} ${api.audience}${api.isDefault ? ' (default)' : ''}`,
              `introspection client_id:     ${introspection.clientId}`,
              `introspection client_secret: ${introspection.clientSecret}`,
              'The secret is shown only now; store it in the resource server.',
            ].join('\n'),
        );
      });
    });

  program
    .command('app')
    .description('manage third-party apps')
    .command('create')
    .description('register an app (the same service the developer portal uses)')
    .requiredOption('--name <name>', 'app name shown to administrators')
    .requiredOption('--developer <name>', 'developer or company name')
    .requiredOption('--scope <scope=reason...>', 'a requested scope (or AUDIENCE|scope) and why the app needs it; repeat')
    .requiredOption('--terms <text>', 'terms and conditions text')
    .option('--description <text>', 'what the app does')
    .option('--homepage <url>', 'https homepage URL')
    .option('--token-ttl <seconds>', 'access-token lifetime in seconds (60-3600)', integer('--token-ttl'))
    .option('--unpublished', 'create the app unpublished (hidden from hubs)')
    .action(
      async (
        options: { name: string; developer: string; scope: string[]; terms: string; description?: string; homepage?: string; tokenTtl?: number; unpublished?: boolean },
        command: Command,
      ) => {
        await withSession(async ({ ctx, actor }) => {
          const scopes = options.scope.map((entry) => {
            const [name = '', ...rest] = entry.split('=');
            const [audience, scope] = name.includes('|') ? name.split('|') : [undefined, name];
            return { audience, scope: scope ?? '', reason: rest.join('=') || `needs ${scope}` };
          });
          const app = await createApp(ctx, actor, {
            name: options.name,
            developerName: options.developer,
            description: options.description,
            homepageUrl: options.homepage,
            terms: options.terms,
            scopes,
            tokenTtl: options.tokenTtl,
            published: !options.unpublished,
          });
          print(
            output(command),
            { id: app.id, name: app.name, published: app.published, terms_version: app.termsVersion, token_ttl: app.tokenTtl, scopes: app.scopes.map((s) => s.scope) },
            () => `app ${app.id} (${app.name})${app.published ? '' : ', unpublished'}`,
          );
        });
      },
    );

  addPortalCommands(program, { withSession, output });
  addRateLimitCommands(program, { withSession, output });

  const group = program.command('group').description('manage groups of tenants');
  group
    .command('create')
    .description('create a group in a network')
    .requiredOption('--network <id>', 'network ID')
    .requiredOption('--name <name>', 'group name, unique in the network')
    .option('--tenants <ids>', 'comma-separated tenant IDs of the network', list, [])
    .action(async (options: { network: string; name: string; tenants: string[] }, command: Command) => {
      await withSession(async ({ ctx, actor }) => {
        const created = await createGroup(ctx, actor, options.network, { name: options.name, tenantIds: options.tenants });
        print(output(command), { id: created.id, name: created.name, tenants: created.tenantCount }, () => `group ${created.id} (${created.name}), ${created.tenantCount} tenants`);
      });
    });
  group
    .command('update')
    .description('add or remove tenants of a group, or rename it')
    .argument('<group-id>', 'group ID')
    .option('--network <id>', "network ID the group belongs to (default: the group's own)")
    .option('--add <ids>', 'comma-separated tenant IDs to add', list)
    .option('--remove <ids>', 'comma-separated tenant IDs to remove', list)
    .option('--name <name>', 'new group name')
    .action(async (groupId: string, options: { network?: string; add?: string[]; remove?: string[]; name?: string }, command: Command) => {
      await withSession(async ({ ctx, actor, db }) => {
        const networkId = options.network ?? (await networkOfGroup(db, groupId));
        const result = await updateGroup(ctx, actor, networkId, groupId, { name: options.name, add: options.add, remove: options.remove });
        print(output(command), { id: groupId, ...result }, () =>
          [options.name === undefined ? undefined : `group ${groupId} renamed to ${JSON.stringify(options.name.trim())}`, `group ${groupId}: added ${result.added.length}, removed ${result.removed.length}`]
            .filter((line) => line !== undefined)
            .join('\n'),
        );
      });
    });
  group
    .command('delete')
    .description('delete a group and cut all its connections')
    .argument('<group-id>', 'group ID')
    .option('--network <id>', "network ID the group belongs to (default: the group's own)")
    .action(async (groupId: string, options: { network?: string }, command: Command) => {
      await withSession(async ({ ctx, actor, db }) => {
        const networkId = options.network ?? (await networkOfGroup(db, groupId));
        const result = await deleteGroup(ctx, actor, networkId, groupId);
        print(output(command), { id: groupId, deleted: true, disconnected_connections: result.disconnected }, () => `group ${groupId} deleted; ${result.disconnected.length} connections cut`);
      });
    });

  program
    .command('connect')
    .description('connect an app to a group, recording the consent (terms accepted, access approved)')
    .requiredOption('--network <id>', 'network ID')
    .requiredOption('--group <id>', 'group ID')
    .requiredOption('--app <id>', 'app ID')
    .requiredOption('--approved-by <who>', 'name or e-mail of the administrator who approved access')
    .option('--terms-version <n>', "terms version accepted (default: the app's current version)", integer('--terms-version'))
    .option('--scopes <list>', 'comma-separated scopes approved (default: all the app requests)', list)
    .action(async (options: { network: string; group: string; app: string; approvedBy: string; termsVersion?: number; scopes?: string[] }, command: Command) => {
      await withSession(async ({ ctx, actor }) => {
        const app = await requireApp(ctx, options.app);
        const connection = await connectApp(ctx, actor, options.network, {
          groupId: options.group,
          appId: options.app,
          acceptedTermsVersion: options.termsVersion ?? app.termsVersion,
          approvedBy: options.approvedBy,
          scopes: options.scopes,
        });
        print(
          output(command),
          {
            connection_id: connection.id,
            client_id: connection.clientId,
            group_id: connection.groupId,
            app_id: connection.appId,
            scopes: connection.consent?.scopes.map((s) => s.scope) ?? [],
            terms_version: connection.consent?.termsVersion,
          },
          () => `connection ${connection.id}, client_id ${connection.clientId}; run \`tenantgate secret generate --connection ${connection.id}\` next`,
        );
      });
    });

  const secret = program.command('secret').description('manage client secrets of connections');
  secret
    .command('generate')
    .description('generate a client secret (shown once); an existing one keeps working for the grace period')
    .requiredOption('--connection <id>', 'connection ID')
    .option('--network <id>', 'network ID (default: the connection\'s own)')
    .addOption(new Option('--grace <seconds>', 'grace period of the previous secret, 0 to 2592000 (default SECRET_GRACE_PERIOD)').argParser(integer('--grace')))
    .action(async (options: { connection: string; network?: string; grace?: number }, command: Command) => {
      await withSession(async ({ ctx, actor, db }) => {
        const networkId = options.network ?? (await networkOfConnection(db, options.connection));
        const generated = await generateSecret(ctx, actor, networkId, options.connection, { graceSeconds: options.grace });
        const previous = generated.previousExpiresAt === null ? null : new Date(generated.previousExpiresAt).toISOString();
        print(
          output(command),
          { connection_id: generated.connectionId, client_id: generated.clientId, client_secret: generated.clientSecret, previous_secret_expires_at: previous },
          () =>
            [
              `client_id:     ${generated.clientId}`,
              `client_secret: ${generated.clientSecret}`,
              previous ? `the previous secret stops working at ${previous}` : 'there was no previous secret',
              'The secret is shown only now.',
            ].join('\n'),
        );
      });
    });
  secret
    .command('revoke')
    .description('revoke every valid secret of a connection at once')
    .requiredOption('--connection <id>', 'connection ID')
    .option('--network <id>', 'network ID (default: the connection\'s own)')
    .action(async (options: { connection: string; network?: string }, command: Command) => {
      await withSession(async ({ ctx, actor, db }) => {
        const networkId = options.network ?? (await networkOfConnection(db, options.connection));
        const revoked = await revokeAllSecrets(ctx, actor, networkId, options.connection);
        print(output(command), { connection_id: options.connection, revoked_secret_ids: revoked }, () => `revoked ${revoked.length} secrets`);
      });
    });

  const keys = program.command('keys').description('manage token signing keys');
  keys
    .command('list')
    .description('list signing keys with their state (next, active, retired) and dates')
    .action(async (_options, command: Command) => {
      await withSession(async ({ ctx, actor, config }) => {
        await ensureSigningKey(ctx, actor, config.signingAlg);
        const all = await listKeys(ctx);
        const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
        const rows = all.map((key) => ({
          kid: key.kid,
          alg: key.alg,
          state: key.state,
          created_at: iso(key.createdAt),
          activated_at: iso(key.activatedAt),
          retired_at: iso(key.retiredAt),
          expires_at: iso(key.expiresAt),
        }));
        print(output(command), { keys: rows }, () => rows.map((k) => `${k.kid}  ${k.alg}  ${k.state}  created ${k.created_at}${k.expires_at ? `  leaves JWKS ${k.expires_at}` : ''}`).join('\n'));
      });
    });
  keys
    .command('rotate')
    .description('publish a new signing key, wait until every instance serves it, then sign with it')
    .option(
      '--publish-wait <seconds>',
      'time between every instance publishing the next key and signing with it, for resource servers that cache the JWKS (default 0 without REDIS_URL, 10 with it)',
      integer('--publish-wait'),
    )
    .action(async (options: { publishWait?: number }, command: Command) => {
      await withSession(async ({ ctx, actor, config, notices }) => {
        const next = await publishNextKey(ctx, actor, config.signingAlg);
        await notices.flush();
        // With Redis, every running instance reports the keys it publishes; none signs with the
        // next key before all of them serve it. Without Redis there is one instance, and it
        // reloads its keys on its next request.
        const instances = await notices.waitForKey(next.kid, INSTANCE_KEY_WAIT_MS);
        const wait = options.publishWait ?? (config.redisUrl ? 10 : 0);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait * 1000));
        const active = await activateNextKey(ctx, actor);
        print(
          output(command),
          { published_kid: next.kid, active_kid: active?.kid ?? next.kid, instances_confirmed: instances.length },
          () => `signing with ${active?.kid ?? next.kid} (${instances.length} instances confirmed the new key first); the previous key stays in the JWKS until its tokens expire`,
        );
      });
    });

  const adminKeys = program.command('admin-key').description('manage keys for the admin JSON API (/api/v1)');
  adminKeys
    .command('create')
    .description("create a key that acts as a network user, with that user's roles; the key is shown once")
    .requiredOption('--email <email>', 'e-mail of the network user the key acts as')
    .requiredOption('--name <name>', 'what the key is for, shown in the audit log')
    .action(async (options: { email: string; name: string }, command: Command) => {
      await withSession(async ({ ctx, actor }) => {
        const created = await createAdminApiKey(ctx, actor, options);
        print(output(command), { id: created.id, key: created.key, network_id: created.networkId, user_id: created.userId }, () =>
          [`key ${created.id} for user ${created.userId}`, `key: ${created.key}`, 'The key is shown only now; send it as "Authorization: Bearer <key>".'].join('\n'),
        );
      });
    });
  adminKeys
    .command('list')
    .description("list a network's keys with their user, name and state (never the keys)")
    .requiredOption('--network <id>', 'network ID')
    .action(async (options: { network: string }, command: Command) => {
      await withSession(async ({ ctx }) => {
        const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
        const rows = (await listAdminKeys(ctx, options.network)).map((key) => ({
          id: key.id,
          user_id: key.userId,
          name: key.name,
          created_at: iso(key.createdAt),
          revoked_at: iso(key.revokedAt),
        }));
        print(output(command), { keys: rows }, () => rows.map((key) => `${key.id} ${key.revoked_at ? 'revoked' : 'live'} user ${key.user_id} ${JSON.stringify(key.name)}`).join('\n') || 'no keys');
      });
    });
  adminKeys
    .command('revoke')
    .description('revoke a key at once; requests with it get 401 from then on')
    .argument('<key-id>', 'key ID (from create or list)')
    .requiredOption('--network <id>', 'network ID the key belongs to')
    .action(async (keyId: string, options: { network: string }, command: Command) => {
      await withSession(async ({ ctx, actor }) => {
        await revokeAdminKey(ctx, actor, options.network, keyId);
        print(output(command), { id: keyId, revoked: true }, () => `key ${keyId} revoked`);
      });
    });

  program
    .command('audit')
    .description('read the audit log')
    .command('export')
    .description('print every audit event in order (JSON with --json)')
    .option('--network <id>', 'only this network\'s events')
    .action(async (options: { network?: string }, command: Command) => {
      await withSession(async ({ ctx, db }) => {
        // An unknown network is an error, not an empty log.
        if (options.network !== undefined) await requireNetwork(ctx, options.network);
        const events = await exportAuditEvents(db, options.network);
        print(output(command), { events }, () => events.map((e) => `${new Date(e.occurredAt).toISOString()} ${e.actor} ${e.action} ${e.targetType}:${e.targetId ?? ''} ${e.outcome}`).join('\n'));
      });
    });

  program
    .command('demo')
    .description('build the example customer (Good Plumbing Network) and print each connection\'s client ID, secret and tenants')
    .action(async (_options, command: Command) => {
      await withSession(async ({ ctx, actor, config }) => {
        const demo = await buildDemo(ctx, actor, config.issuer);
        print(output(command), demo, () =>
          [
            `network ${demo.network.name} (${demo.network.id}), API ${demo.api.audience}`,
            ...demo.connections.map((c) => `${c.group} -> ${c.app}: client_id ${c.client_id} client_secret ${c.client_secret} tenants ${c.tenants.join(',')}`),
          ].join('\n'),
        );
      });
    });

  return program;
}

/** The CLI acts as the operator, across networks, so it may look a connection's network up. */
async function networkOfGroup(db: Db, groupId: string): Promise<string> {
  const networkId = await findGroupNetwork(db, groupId);
  if (networkId === undefined) throw new DomainError('group.not_found', 404, `group ${JSON.stringify(groupId)} was not found`);
  return networkId;
}

async function networkOfConnection(db: Db, connectionId: string): Promise<string> {
  const networkId = await findConnectionNetwork(db, connectionId);
  if (networkId === undefined) throw new DomainError('connection.not_found', 404, `connection ${JSON.stringify(connectionId)} was not found`);
  return networkId;
}

export async function runCli(argv: string[]): Promise<number> {
  const program = buildCli();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      if (err.code === 'tenantgate.invalid') printError(err.message);
      return err.exitCode || 2;
    }
    if (err instanceof ConfigError || err instanceof DomainError) {
      printError(err.message);
      return 1;
    }
    printError(err instanceof Error ? err.message : String(err));
    return 1;
  }
}

runCli(process.argv).then((code) => {
  process.exitCode = code;
});
