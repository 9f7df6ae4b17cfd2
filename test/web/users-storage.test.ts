import { assignRoles, createRole, createUser, deleteRole, reissueSignInLink, updateRole } from '../../src/domain/accounts.js';
import { createNetwork } from '../../src/domain/networks.js';
import { getNetworkUser, getRole, listNetworkUsers, listRoles, userPermissions, userRoleIds } from '../../src/storage/users.js';
import { startServer, type TestServer } from '../support/server.js';

// Each network-scoped read and change of users and roles, called with the other network's ID.
let server: TestServer;
const actor = { id: 'test' };
let a: { networkId: string; userId: string; roleId: string };
let b: { networkId: string; userId: string; roleId: string };

async function networkWithUser(name: string) {
  const ctx = server.tg.domain;
  const network = await createNetwork(ctx, actor, { name });
  const role = await createRole(ctx, actor, network.id, { name: 'Role', permissions: ['integrations.view'] });
  const { user } = await createUser(ctx, actor, { networkId: network.id, email: `user@${name}.example`, roleIds: [role.id] });
  return { networkId: network.id, userId: user.id, roleId: role.id };
}

beforeAll(async () => {
  server = await startServer();
  a = await networkWithUser('a');
  b = await networkWithUser('b');
});
afterAll(async () => server.stop());

test('reads with another network ID find nothing', async () => {
  const db = server.tg.domain.db;
  expect(await getNetworkUser(db, a.networkId, b.userId)).toBeUndefined();
  expect(await getRole(db, a.networkId, b.roleId)).toBeUndefined();
  expect((await listNetworkUsers(db, a.networkId)).map((u) => u.id)).toEqual([a.userId]);
  expect((await listRoles(db, a.networkId)).map((r) => r.id)).toEqual([a.roleId]);
  expect(await userRoleIds(db, a.networkId, b.userId)).toEqual([]);
  expect([...(await userPermissions(db, a.networkId, b.userId))]).toEqual([]);
});

test.each([
  ['updateRole', () => updateRole(server.tg.domain, actor, a.networkId, b.roleId, { name: 'X', permissions: [] })],
  ['deleteRole', () => deleteRole(server.tg.domain, actor, a.networkId, b.roleId)],
  ['assignRoles to a foreign user', () => assignRoles(server.tg.domain, actor, a.networkId, b.userId, [a.roleId])],
  ['assignRoles of a foreign role', () => assignRoles(server.tg.domain, actor, a.networkId, a.userId, [b.roleId])],
  ['reissueSignInLink', () => reissueSignInLink(server.tg.domain, actor, a.networkId, b.userId)],
  ['createUser with a foreign role', () => createUser(server.tg.domain, actor, { networkId: a.networkId, email: 'x@a.example', roleIds: [b.roleId] })],
])('%s with another network ID is not found', async (_name, call) => {
  await expect(call()).rejects.toMatchObject({ status: 404 });
  const db = server.tg.domain.db;
  expect(await userRoleIds(db, b.networkId, b.userId)).toEqual([b.roleId]);
  expect((await getRole(db, b.networkId, b.roleId))?.name).toBe('Role');
  expect(await userRoleIds(db, a.networkId, a.userId)).toEqual([a.roleId]);
});
