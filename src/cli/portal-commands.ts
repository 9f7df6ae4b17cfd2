import { CommanderError, type Command } from 'commander';

import type { Config } from '../config.js';
import { setAppPublished } from '../domain/app-updates.js';
import type { DomainContext } from '../domain/context.js';
import { invitationLink, inviteDeveloper, isOpenSignUp, setOpenSignUp } from '../domain/developers.js';
import type { Actor } from '../domain/types.js';
import { print, type Output } from './output.js';

/** Context of one portal command: the configuration, the domain context and the actor. */
export interface CommandSession {
  config: Config;
  ctx: DomainContext;
  actor: Actor;
}

export interface CommandHelpers {
  withSession<T>(work: (session: CommandSession) => Promise<T>): Promise<T>;
  output(command: Command): Output;
}

/** Adds the operator's commands for the developer portal: invitations, open sign-up, publishing. */
export function addPortalCommands(program: Command, { withSession, output }: CommandHelpers): void {
  const developer = program.command('developer').description('manage developer accounts of the portal (My Apps)');
  developer
    .command('invite')
    .description('invite a developer into an organisation and print a one-time link (valid 7 days)')
    .requiredOption('--email <address>', "the developer's e-mail address")
    .option('--org <name>', 'organisation name; created when no organisation has it')
    .option('--org-id <id>', 'ID of an existing organisation (instead of --org)')
    .action(async (options: { email: string; org?: string; orgId?: string }, command: Command) => {
      await withSession(async ({ config, ctx, actor }) => {
        const invitation = await inviteDeveloper(ctx, actor, { email: options.email, orgId: options.orgId, orgName: options.org });
        const link = invitationLink(config.issuer, invitation.token);
        const expiresAt = new Date(invitation.expiresAt).toISOString();
        print(
          output(command),
          { email: invitation.email, org_id: invitation.org.id, org: invitation.org.name, link, expires_at: expiresAt },
          () => [`invitation for ${invitation.email} into ${invitation.org.name} (${invitation.org.id})`, link, `The link works once, until ${expiresAt}.`].join('\n'),
        );
      });
    });

  const portal = program.command('portal').description('settings of the developer portal');
  portal
    .command('open-sign-up')
    .description('show or set whether anyone may sign up as a developer (otherwise by invitation only)')
    .argument('[state]', '"on" or "off"; omitted prints the current state')
    .action(async (state: string | undefined, _options, command: Command) => {
      await withSession(async ({ ctx, actor }) => {
        if (state !== undefined && state !== 'on' && state !== 'off') throw new CommanderError(2, 'tenantgate.invalid', `state must be "on" or "off", got ${JSON.stringify(state)}`);
        if (state !== undefined) await setOpenSignUp(ctx, actor, state === 'on');
        const enabled = await isOpenSignUp(ctx);
        print(output(command), { open_sign_up: enabled }, () => `open sign-up is ${enabled ? 'on' : 'off (invitation only)'}`);
      });
    });

  const app = program.commands.find((candidate) => candidate.name() === 'app') ?? program.command('app').description('manage third-party apps');
  for (const [name, published] of [
    ['publish', true],
    ['unpublish', false],
  ] as const) {
    app
      .command(name)
      .description(published ? 'show the app in every hub\'s Connect New App list' : 'hide the app from new connections; existing ones keep working')
      .argument('<app-id>', 'app ID')
      .action(async (appId: string, _options, command: Command) => {
        await withSession(async ({ ctx, actor }) => {
          const updated = await setAppPublished(ctx, actor, { kind: 'operator' }, appId, published);
          print(output(command), { id: updated.id, published: updated.published }, () => `app ${updated.id} is ${updated.published ? 'published' : 'unpublished'}`);
        });
      });
  }
}
