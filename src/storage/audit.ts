import type { Knex } from 'knex';

export interface AuditEventInput {
  networkId: string | null;
  occurredAt: number;
  actor: string;
  action: string;
  targetType: string;
  targetId: string | null;
  requestId: string | null;
  outcome: 'success' | 'failure' | 'denied';
  details: Record<string, unknown>;
}

export interface AuditEvent extends AuditEventInput {
  id: number;
}

// The audit log is append-only: this module has an insert and reads, and nothing in the code
// base updates or deletes audit_events rows.

export async function appendAuditEvent(db: Knex | Knex.Transaction, event: AuditEventInput): Promise<void> {
  await db('audit_events').insert({
    network_id: event.networkId,
    occurred_at: event.occurredAt,
    actor: event.actor,
    action: event.action,
    target_type: event.targetType,
    target_id: event.targetId,
    request_id: event.requestId,
    outcome: event.outcome,
    details: JSON.stringify(event.details),
  });
}

export interface AuditFilter {
  action?: string | undefined;
  targetId?: string | undefined;
  actor?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  beforeId?: number | undefined;
  limit?: number | undefined;
}

type AuditRow = {
  id: number | string;
  network_id: string | null;
  occurred_at: number;
  actor: string;
  action: string;
  target_type: string;
  target_id: string | null;
  request_id: string | null;
  outcome: AuditEventInput['outcome'];
  details: string;
};

function toEvent(row: AuditRow): AuditEvent {
  return {
    id: Number(row.id),
    networkId: row.network_id,
    occurredAt: Number(row.occurred_at),
    actor: row.actor,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    requestId: row.request_id,
    outcome: row.outcome,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}

/** Lists a network's events, newest first; `null` lists the operator's platform-wide events. */
export async function listAuditEvents(db: Knex, networkId: string | null, filter: AuditFilter = {}): Promise<AuditEvent[]> {
  const query = db<AuditRow>('audit_events').orderBy('id', 'desc').limit(Math.min(filter.limit ?? 100, 1000));
  if (networkId === null) query.whereNull('network_id');
  else query.where('network_id', networkId);
  if (filter.action) query.where('action', filter.action);
  if (filter.targetId) query.where('target_id', filter.targetId);
  if (filter.actor) query.where('actor', filter.actor);
  if (filter.since !== undefined) query.where('occurred_at', '>=', filter.since);
  if (filter.until !== undefined) query.where('occurred_at', '<', filter.until);
  if (filter.beforeId !== undefined) query.where('id', '<', filter.beforeId);
  return (await query).map(toEvent);
}

/** Streams every event in order of id, for export; `networkId` undefined exports all networks. */
export async function exportAuditEvents(db: Knex, networkId?: string): Promise<AuditEvent[]> {
  const query = db<AuditRow>('audit_events').orderBy('id', 'asc');
  if (networkId !== undefined) query.where('network_id', networkId);
  return (await query).map(toEvent);
}
