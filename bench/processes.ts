import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

// A server that is not ready by then is broken, not slow: tenantgate's own target is 2 s.
const READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 10;

export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  /** Milliseconds from spawn to the first 2xx response from the readiness path. */
  readonly startupMs: number;
  /** Resident set size of the server process now, in MiB (Linux /proc). */
  rssMiB(): number;
  /** Peak resident set size of the server process so far, in MiB (VmHWM in Linux /proc). */
  rssPeakMiB(): number;
  /** CPU time the server process has used so far, user and system, in seconds (Linux /proc). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function readStatusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

// Linux reports process CPU time in clock ticks of 1/100 s on every common configuration
// (`getconf CLK_TCK`); Node has no API to read the value.
const CLOCK_TICKS_PER_SECOND = 100;

function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name in field 2 may contain spaces, so count fields after its closing bracket.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  return (userTicks + systemTicks) / CLOCK_TICKS_PER_SECOND;
}

async function waitUntilReady(child: ChildProcess, readyUrl: string, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode} before it was ready; see ${logFile}`);
    try {
      const response = await fetch(readyUrl);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  child.kill('SIGKILL');
  throw new Error(`server was not ready at ${readyUrl} within ${READY_TIMEOUT_MS} ms; see ${logFile}`);
}

/**
 * Starts a server process with `node ARGS` and an explicit environment, sends its output to a
 * log file (a pipe that is never read would block the server once full), and waits until
 * `readyPath` returns 2xx.
 */
export async function startProcess(options: {
  name: string;
  args: string[];
  env: Record<string, string>;
  port: number;
  readyPath: string;
  logDir: string;
  nodeOptions?: string[];
}): Promise<ServerProcess> {
  const logFile = join(options.logDir, `${options.name}.log`);
  const output = openSync(logFile, 'a');
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.nodeOptions ?? []), ...options.args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
    stdio: ['ignore', output, output],
  });
  const url = `http://127.0.0.1:${options.port}`;
  await waitUntilReady(child, url + options.readyPath, logFile);
  const startupMs = performance.now() - started;

  return {
    url,
    pid: child.pid!,
    startupMs,
    rssMiB: () => readStatusMiB(child.pid!, 'VmRSS'),
    rssPeakMiB: () => readStatusMiB(child.pid!, 'VmHWM'),
    cpuSeconds: () => readCpuSeconds(child.pid!),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
