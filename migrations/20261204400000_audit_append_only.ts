import type { Knex } from 'knex';

// The audit log must be trustworthy: the database itself refuses to change or delete an event,
// so neither a bug nor a hand-written query can rewrite history through the application's role.

export async function up(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'pg') {
    await knex.raw(`
      create function tenantgate_audit_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_events is append-only';
      end
      $$`);
    await knex.raw(`
      create trigger audit_events_append_only before update or delete on audit_events
      for each row execute function tenantgate_audit_append_only()`);
    return;
  }

  await knex.raw(`
    create trigger audit_events_no_update before update on audit_events
    begin select raise(abort, 'audit_events is append-only'); end`);
  await knex.raw(`
    create trigger audit_events_no_delete before delete on audit_events
    begin select raise(abort, 'audit_events is append-only'); end`);
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'pg') {
    await knex.raw('drop trigger if exists audit_events_append_only on audit_events');
    await knex.raw('drop function if exists tenantgate_audit_append_only()');
    return;
  }
  await knex.raw('drop trigger if exists audit_events_no_update');
  await knex.raw('drop trigger if exists audit_events_no_delete');
}
