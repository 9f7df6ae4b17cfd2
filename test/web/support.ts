import { createNetworkAdmin, createRole, createUser, redeemSignInLink, assignRoles } from '../../src/domain/accounts.js';
import { createNetwork } from '../../src/domain/networks.js';
import { addTenants } from '../../src/domain/tenants.js';
import type { Permission } from '../../src/domain/accounts-types.js';
import type { TestServer } from '../support/server.js';

export const PASSWORD = 'correct horse battery staple';
const SYSTEM = { id: 'test' };

export interface PageResponse {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
}

/** A browser stand-in over plain fetch: keeps cookies, never follows redirects. */
export class PageClient {
  readonly cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private keep(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index);
      const value = pair.slice(index + 1);
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<PageResponse> {
    const response = await fetch(`${this.base}${path}`, { redirect: 'manual', headers: { cookie: this.cookieHeader(), ...headers } });
    this.keep(response);
    return { status: response.status, headers: response.headers, text: await response.text(), location: response.headers.get('location') };
  }

  /** POSTs a form; the CSRF token is taken from `csrfFrom` (a page path) unless given. */
  async post(path: string, fields: Record<string, string | string[]>, options: { csrf?: string | null; csrfFrom?: string } = {}): Promise<PageResponse> {
    const body = new URLSearchParams();
    const csrf = options.csrf === undefined ? await this.csrf(options.csrfFrom ?? '/hub') : options.csrf;
    if (csrf !== null) body.append('_csrf', csrf);
    for (const [name, value] of Object.entries(fields)) for (const item of Array.isArray(value) ? value : [value]) body.append(name, item);
    const response = await fetch(`${this.base}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
    this.keep(response);
    return { status: response.status, headers: response.headers, text: await response.text(), location: response.headers.get('location') };
  }

  /** Reads the CSRF token from a page's forms. */
  async csrf(path: string): Promise<string> {
    let page = await this.get(path);
    if (page.status === 302 && page.location?.startsWith('/')) page = await this.get(page.location);
    const match = /name="_csrf" value="([^"]+)"/.exec(page.text);
    if (!match) throw new Error(`no CSRF token on ${path} (status ${page.status})`);
    return match[1]!;
  }

  async signIn(email: string, password = PASSWORD): Promise<PageResponse> {
    return this.post('/signin', { email, password }, { csrfFrom: '/signin' });
  }
}

/** Creates a network user with a password and the given permissions (through one role). */
export async function createSignedUpUser(
  server: TestServer,
  networkId: string,
  email: string,
  permissions: Permission[],
): Promise<{ id: string; email: string; roleId?: string }> {
  const ctx = server.tg.domain;
  const { user, link } = await createUser(ctx, SYSTEM, { networkId, email });
  await redeemSignInLink(ctx, new URLSearchParams(link.path.split('?')[1]).get('token')!, PASSWORD);
  if (permissions.length === 0) return { id: user.id, email };
  const role = await createRole(ctx, SYSTEM, networkId, { name: `role of ${email}`, permissions });
  await assignRoles(ctx, SYSTEM, networkId, user.id, [role.id]);
  return { id: user.id, email, roleId: role.id };
}

export async function createOperator(server: TestServer, email = 'operator@example.com'): Promise<string> {
  const { link } = await createUser(server.tg.domain, SYSTEM, { networkId: null, email });
  await redeemSignInLink(server.tg.domain, new URLSearchParams(link.path.split('?')[1]).get('token')!, PASSWORD);
  return email;
}

export async function createNetworkWithTenants(server: TestServer, name: string, tenantIds: string[]): Promise<string> {
  const network = await createNetwork(server.tg.domain, SYSTEM, { name });
  await addTenants(server.tg.domain, SYSTEM, network.id, tenantIds);
  return network.id;
}

export async function createAdmin(server: TestServer, networkId: string, email: string): Promise<string> {
  const { link } = await createNetworkAdmin(server.tg.domain, SYSTEM, networkId, { email });
  await redeemSignInLink(server.tg.domain, new URLSearchParams(link.path.split('?')[1]).get('token')!, PASSWORD);
  return email;
}

/** Rows of every table the hub changes, to prove that a rejected request changed nothing. */
export async function snapshot(server: TestServer): Promise<Record<string, unknown[]>> {
  const db = server.tg.domain.db;
  const tables = ['networks', 'tenants', 'groups', 'group_tenants', 'connections', 'consents', 'client_secrets', 'users', 'roles', 'role_permissions', 'user_roles', 'sign_in_links', 'audit_events'];
  const out: Record<string, unknown[]> = {};
  for (const table of tables) {
    const rows = (await db(table).select()) as Record<string, unknown>[];
    out[table] = rows.map((row) => JSON.stringify(row)).sort();
  }
  return out;
}
