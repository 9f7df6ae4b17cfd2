import type { IncomingMessage } from 'node:http';

/** The client stopped sending (closed the connection) before the body was complete. */
export class RequestAbortedError extends Error {
  override name = 'RequestAbortedError';
}

/**
 * Reads a request body of at most `limit` bytes. Throws `tooLarge()` past the limit, and a
 * RequestAbortedError when the stream fails, so a vanished client is not a server error.
 */
export async function readBody(req: IncomingMessage, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  let overLimit: Error | undefined;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        overLimit = tooLarge();
        throw overLimit;
      }
      chunks.push(chunk);
    }
  } catch (err) {
    // The caller's error may carry a string code too (a DomainError does), so it is recognised
    // by identity. Stream errors carry a code (ECONNRESET for "aborted"). No instanceof Error
    // here: errors from Node's internals may come from another realm.
    if (err !== overLimit && typeof err === 'object' && err !== null && typeof (err as NodeJS.ErrnoException).code === 'string') {
      throw new RequestAbortedError('the request body was not received completely', { cause: err });
    }
    throw err;
  }
  return Buffer.concat(chunks);
}
