import type { Knex } from 'knex';

import type { DataKeys } from '../crypto/data-key.js';
import { appendAuditEvent, type AuditEventInput } from '../storage/audit.js';
import { bumpEpoch } from '../storage/epoch.js';
import type { Actor, Clock } from './types.js';

/** Everything a domain service needs; built once per process and shared by pages, API and CLI. */
export interface DomainContext {
  readonly db: Knex;
  readonly clock: Clock;
  readonly keys: DataKeys;
  readonly settings: {
    readonly accessTokenTtl: number;
    readonly secretGracePeriod: number;
  };
  /** Called after every committed change, to drop in-process caches and tell other instances. */
  readonly onChange: () => void;
}

export type AuditDraft = Omit<AuditEventInput, 'occurredAt' | 'actor' | 'requestId' | 'outcome'> & {
  outcome?: AuditEventInput['outcome'];
};

export interface ChangeScope {
  readonly trx: Knex.Transaction;
  readonly now: number;
  audit(event: AuditDraft): void;
}

/**
 * Runs one change in a transaction: the epoch bump comes first, so it takes the write lock at
 * once (a SQLite writer then waits on busy_timeout instead of failing on a stale snapshot, and
 * Postgres writers queue on the epoch row), then the work, then its audit events. Caches are
 * invalidated only after the commit.
 */
export async function change<T>(ctx: DomainContext, actor: Actor, work: (scope: ChangeScope) => Promise<T>): Promise<T> {
  const now = ctx.clock.now();
  const events: AuditDraft[] = [];

  const result = await ctx.db.transaction(async (trx) => {
    await bumpEpoch(trx);
    const value = await work({ trx, now, audit: (event) => events.push(event) });
    for (const event of events) {
      await appendAuditEvent(trx, {
        ...event,
        occurredAt: now,
        actor: actor.id,
        requestId: actor.requestId ?? null,
        outcome: event.outcome ?? 'success',
      });
    }
    return value;
  });

  ctx.onChange();
  return result;
}

/** Records an event that changed nothing (a refusal, a declined consent) outside any change. */
export async function recordEvent(ctx: DomainContext, actor: Actor, event: AuditDraft): Promise<void> {
  await appendAuditEvent(ctx.db, {
    ...event,
    occurredAt: ctx.clock.now(),
    actor: actor.id,
    requestId: actor.requestId ?? null,
    outcome: event.outcome ?? 'success',
  });
}
