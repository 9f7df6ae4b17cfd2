import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

// Two copies of the 48-byte WAL-index header (https://www.sqlite.org/walformat.html, section 2.1).
const HEADER_BYTES = 96;

/**
 * Tells, without a query, whether any connection to a SQLite database in WAL mode (this
 * process's or another's) may have committed since an earlier sample.
 *
 * Every commit rewrites the WAL-index header at the start of the `-shm` file before the commit
 * returns, and the header's change counter grows with each write transaction. Connections
 * running different SQLite versions share this file, so its layout is fixed by SQLite's file
 * format. A sample is a `pread` of 96 bytes from the page cache, on the calling thread. A query
 * instead goes through libuv's thread pool, where it waits behind signatures.
 *
 * Two equal samples mean no commit happened between them. Unequal samples mean there may have
 * been one (a checkpoint also rewrites the header), and the caller must read.
 */
export class WalIndexSignal {
  #fd: number | undefined;
  readonly #buffer = Buffer.alloc(HEADER_BYTES);

  private constructor(private readonly path: string) {}

  /**
   * Starts watching the `-shm` file of a database file. Call it after the database has been
   * opened in WAL mode, so the file exists.
   */
  static watch(databaseFile: string): WalIndexSignal {
    return new WalIndexSignal(`${databaseFile}-shm`);
  }

  /**
   * Returns a copy of the current header, or undefined when it cannot be read; the caller then
   * treats every check as a possible change.
   */
  sample(): Buffer | undefined {
    try {
      // The last connection to close deletes the file, and the next one to open creates a new
      // one: a descriptor of a deleted file would go on returning the header it last saw.
      if (this.#fd !== undefined && fstatSync(this.#fd).nlink === 0) this.close();
      this.#fd ??= openSync(this.path, constants.O_RDONLY);
      const read = readSync(this.#fd, this.#buffer, 0, HEADER_BYTES, 0);
      return read === HEADER_BYTES ? Buffer.from(this.#buffer) : undefined;
    } catch {
      // Not created yet, or removed between the check and the open.
      this.close();
      return undefined;
    }
  }

  close(): void {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    try {
      closeSync(fd);
    } catch {
      // Already closed, so there is nothing to release.
    }
  }
}
