import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { migrateLatest, openDb } from '../../src/storage/db.js';
import { freePort } from '../support/server.js';

const MAIN = resolve('dist/src/main.js');

interface Started {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  url: string;
}

/** Starts the compiled server like `npm start` does, in `cwd`, and waits until it listens. */
async function startProcess(cwd: string, env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], { cwd, env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', ...env } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { child, output: () => output, url };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`server did not start in 20 s: ${output}`);
}

function exited(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('exit', (code) => r(code))));
}

describe('the server process', () => {
  let cwd: string;

  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'tenantgate-process-'));
  });

  afterEach(() => {
    rmSync(cwd, { recursive: true, force: true });
  });

  test('starts on SQLite under ./data with no configuration and stops on SIGTERM', async () => {
    const server = await startProcess(cwd, {});
    try {
      expect(existsSync(join(cwd, 'data', 'tenantgate.sqlite'))).toBe(true);
      expect(existsSync(join(cwd, 'data', 'data.key'))).toBe(true);
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { status: string }).status).toBe('ready');
      expect(server.output()).toContain('/signin/link/');
    } finally {
      server.child.kill('SIGTERM');
    }
    const code = await exited(server.child);
    // The server output goes into the failure message to show why a shutdown did not exit cleanly.
    expect(code === 0 ? 'exit code 0' : `exit code ${code}: ${server.output()}`).toBe('exit code 0');
    expect(server.output()).toContain('"msg":"stopped"');
  });

  test('SIGTERM during start-up stops cleanly', async () => {
    // Nothing listens on this loopback port, so start-up spends its Redis wait (1.5 s) there.
    const redisPort = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      cwd,
      env: { PATH: process.env.PATH ?? '', PORT: String(await freePort()), HOST: '127.0.0.1', REDIS_URL: `redis://127.0.0.1:${redisPort}`, LOG_LEVEL: 'info' },
    });
    let output = '';
    const waitingForRedis = new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('connecting to Redis')) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
    });
    await waitingForRedis;
    child.kill('SIGTERM');

    const code = await exited(child);
    expect(code === 0 ? 'exit code 0' : `exit code ${code}: ${output}`).toBe('exit code 0');
    expect(output).toContain('"msg":"stopped"');
    expect(output).not.toContain('tenantgate listening');
  });

  test('SIGTERM during migration lock wait', async () => {
    // A lock left by a killed migration: start-up waits up to 30 s for it, longer than the 10 s grace.
    mkdirSync(join(cwd, 'data'));
    const db = openDb(`sqlite:${join(cwd, 'data', 'tenantgate.sqlite')}`);
    await migrateLatest(db);
    await db('knex_migrations_lock').update({ is_locked: 1 });
    await db.destroy();

    const child = spawn(process.execPath, [MAIN], { cwd, env: { PATH: process.env.PATH ?? '', PORT: String(await freePort()), HOST: '127.0.0.1', DATA_KEY: randomBytes(32).toString('hex') } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const waiting = new Promise<void>((resolve) => {
      const check = () => output.includes('migration lock is held by another process') && resolve();
      child.stdout.on('data', check);
      child.stderr.on('data', check);
    });
    await waiting;
    child.kill('SIGTERM');

    expect(await exited(child)).toBe(1);
    expect(output).toContain('"msg":"start-up did not finish in time; exiting"');
    expect(output).not.toContain('in-flight requests');
    // knex's own warning for each attempt on the lock is left out; the wait is logged once.
    expect(output).not.toContain("Can't take lock");
    expect(output.split('migration lock is held by another process').length).toBe(2);
  }, 20_000);

  test('a bad variable stops start-up with its name and accepted form', async () => {
    const child = spawn(process.execPath, [MAIN], { cwd, env: { PATH: process.env.PATH ?? '', ACCESS_TOKEN_TTL: '5', PORT: 'abc' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await exited(child)).toBe(2);
    expect(stderr).toContain('ACCESS_TOKEN_TTL: ACCESS_TOKEN_TTL must be a whole number of seconds from 60 to 3600');
    expect(stderr).toContain('PORT');
  });

  test('production refuses to start without DATA_KEY', async () => {
    const child = spawn(process.execPath, [MAIN], { cwd, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await exited(child)).toBe(2);
    expect(stderr).toContain('DATA_KEY');
  });

  test('/metrics counts token requests by outcome', async () => {
    const server = await startProcess(cwd, { DATA_KEY: randomBytes(32).toString('hex') });
    try {
      const form = new URLSearchParams({ grant_type: 'client_credentials', tenant: '1' }).toString();
      const headers = { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('tgc_nobody:nothing').toString('base64')}` };
      for (let i = 0; i < 2; i++) expect((await fetch(`${server.url}/token`, { method: 'POST', headers, body: form })).status).toBe(401);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/tenantgate_token_requests_total\{outcome="invalid_client"\} 2/);
      expect(metrics).toContain('tenantgate_token_request_duration_seconds_bucket');
    } finally {
      server.child.kill('SIGTERM');
      await exited(server.child);
    }
  });
});
