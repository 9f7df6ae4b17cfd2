/**
 * Sizes libuv's thread pool to the machine; `npm start` preloads it with `--require`.
 *
 * The pool signs every token (WebCrypto runs there) and runs every SQLite query. Its default of
 * 4 threads oversubscribes a 2-core machine, where signatures then queue behind each other in
 * bursts, and leaves cores idle on a larger one. So unless the operator set it, the pool gets
 * one thread per core, at least 2. libuv reads the variable when the pool starts, which is on
 * its first task. Node's ESM loader already reads files through the pool, so this has to run
 * as CommonJS, before the entry module loads.
 */
import { availableParallelism } from 'node:os';

process.env.UV_THREADPOOL_SIZE ??= String(Math.max(2, availableParallelism()));
