import { CommanderError, Option, type Command } from 'commander';

import { getAppTokenRateLimit, setAppTokenRateLimit, TOKEN_BURST_MAX, TOKEN_RATE_MAX, type AppRateLimit } from '../domain/app-rate-limits.js';
import { print } from './output.js';
import type { CommandHelpers } from './portal-commands.js';

function wholeNumber(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new CommanderError(2, 'tenantgate.invalid', `${name} must be a whole number, got ${JSON.stringify(value)}`);
    return Number(value);
  };
}

function describeLimit(appId: string, limit: AppRateLimit): string {
  return `app ${appId}: ${limit.rate} token requests per second per client, burst ${limit.burst}${limit.isDefault ? ' (server default)' : ''}`;
}

/** Adds `tenantgate app limit`, which shows or sets the token rate limit of one app. */
export function addRateLimitCommands(program: Command, { withSession, output }: CommandHelpers): void {
  const app = program.commands.find((candidate) => candidate.name() === 'app') ?? program.command('app').description('manage third-party apps');
  app
    .command('limit')
    .description('show or set the token request rate limit of each connection client of an app')
    .argument('<app-id>', 'app ID')
    .addOption(new Option('--rate <per-second>', `token requests per second per client (1-${TOKEN_RATE_MAX})`).argParser(wholeNumber('--rate')))
    .addOption(new Option('--burst <requests>', `requests a client may send at once (rate-${TOKEN_BURST_MAX}; default twice the rate)`).argParser(wholeNumber('--burst')))
    .addOption(new Option('--default', 'restore the server default (50 per second, burst 100)').conflicts(['rate', 'burst']))
    .action(async (appId: string, options: { rate?: number; burst?: number; default?: boolean }, command: Command) => {
      if (options.burst !== undefined && options.rate === undefined) {
        throw new CommanderError(2, 'tenantgate.invalid', '--burst needs --rate as well');
      }
      await withSession(async ({ ctx, actor }) => {
        let limit: AppRateLimit;
        if (options.default) limit = await setAppTokenRateLimit(ctx, actor, appId, null);
        else if (options.rate !== undefined) limit = await setAppTokenRateLimit(ctx, actor, appId, { rate: options.rate, burst: options.burst });
        else limit = await getAppTokenRateLimit(ctx, appId);
        print(output(command), { id: appId, rate: limit.rate, burst: limit.burst, default: limit.isDefault }, () => describeLimit(appId, limit));
      });
    });
}
