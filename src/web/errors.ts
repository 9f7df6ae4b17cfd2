import type { Context, Next } from 'koa';

import { DomainError } from '../domain/errors.js';
import { loggablePath } from '../http/loggable-path.js';
import { RequestAbortedError } from '../http/read-body.js';
import type { WebKit } from './kit.js';

const TITLES: Readonly<Record<number, string>> = {
  400: 'The request was not valid',
  403: 'Access denied',
  404: 'Not found',
  409: 'Conflict',
  413: 'The request was too large',
  415: 'The request was not valid',
  422: 'The request was not valid',
  429: 'Too many requests',
};

/**
 * Turns errors of page routes into HTML pages: a DomainError shows its message with its status,
 * anything else a generic 500 page with the request ID, and the error goes to the log.
 * A 404 never says whether the object exists in another network.
 */
export function pageErrors(kit: WebKit, homeHref = '/') {
  return async function handlePageErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && ctx.state.pageRoute) {
        await kit.render(ctx, 'error.njk', { title: TITLES[404]!, message: 'There is no page at this address.', homeHref }, 404);
      }
    } catch (err) {
      // A client that closed the connection gets no page; the outer handler logs it quietly.
      if (err instanceof RequestAbortedError) throw err;
      if (err instanceof DomainError) {
        const message = err.status === 404 ? 'The page or object was not found in your network.' : err.message;
        await kit.render(ctx, 'error.njk', { title: TITLES[err.status] ?? 'Error', message, homeHref }, err.status);
        return;
      }
      kit.logger.error({ err, request_id: ctx.state.requestId, path: loggablePath(ctx.path) }, 'unhandled error on a page');
      await kit.render(
        ctx,
        'error.njk',
        { title: 'Something went wrong', message: 'An unexpected error occurred; nothing was changed unless the page says so.', requestId: ctx.state.requestId, homeHref },
        500,
      );
    }
  };
}
