import { listConnectionsOfApp, type AppConnectionView } from '../storage/app-connections.js';
import { requireAccessibleApp, type AppAccess } from './app-updates.js';
import type { DomainContext } from './context.js';

export type { AppConnectionView };

/**
 * Lists who connected an app (View Connections): network and group names, the group's tenant
 * IDs, the status and when access was consented. Another organisation's app is not found.
 */
export async function listAppConnections(ctx: DomainContext, access: AppAccess, appId: string): Promise<AppConnectionView[]> {
  const app = await requireAccessibleApp(ctx, access, appId);
  return listConnectionsOfApp(ctx.db, app.id);
}
