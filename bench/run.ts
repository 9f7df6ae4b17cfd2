/**
 * `npm run bench`: token throughput of tenantgate against bare oidc-provider issuing the same JWT,
 * and how the cost changes as data grows. See docs/benchmarks.md for what each figure means.
 *
 *   node dist/bench/run.js [--quick] [--profile] [--only NAME[,NAME]] [--out FILE]
 *
 * Both servers run as child processes; the load generator (autocannon) runs in this process, on
 * the same machine, over loopback.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Command } from 'commander';

import { timeHubPages } from './hub-pages.js';
import { drive, tokenRequests, warmUp, type LoadResult, type PreparedRequest } from './load.js';
import { assertSameTokenShape, introspectionThroughput, issueToken, verificationThroughput } from './measure.js';
import { freePort, startProcess, type ServerProcess } from './processes.js';
import { formatTable, printTargets, type ResultsFile, type ScenarioResult } from './report.js';
import { createBenchStore, type BenchStore } from './stores.js';
import { seedDatabase, type LargeNetworkSize, type SeededData } from './seed.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Returns the Node flags that `npm start` gives the server, so the bench runs tenantgate the same way. */
function startFlags(): string[] {
  const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const match = /\bnode ((?:--\S+ )*)dist\/src\/main\.js/.exec(scripts.start ?? '');
  if (!match) throw new Error('package.json: the start script does not run node dist/src/main.js');
  // A preloaded file is named relative to the package root, where npm runs scripts.
  return match[1]!
    .split(' ')
    .filter(Boolean)
    .map((flag) => flag.replace(/^--require=\.\//, `--require=${repoRoot}/`));
}

type Alg = 'RS256' | 'ES256' | 'EdDSA';

interface Scenario {
  name: string;
  dataset: 'example' | 'large';
  alg: Alg;
  store: 'sqlite' | 'postgres+redis';
  hash: 'keyed' | 'slow';
  connections: number[];
  /** Also measure JWT verification, and on RS256 introspection and restart time, on this scenario. */
  extras: boolean;
  /** Overrides the run length: a slow hash needs seconds per request under load. */
  seconds?: number;
}

interface Settings {
  seconds: number;
  rounds: number;
  /** Distinct (client, tenant) pairs the large-network requests cycle through. */
  largePairs: number;
  large: LargeNetworkSize;
  extrasSeconds: number;
}

const FULL: Settings = { seconds: 3, rounds: 2, largePairs: 4_000, large: { tenants: 100_000, groups: 10_000, tenantsPerGroup: 10, bigGroupTenants: 10_000 }, extrasSeconds: 2 };
const QUICK: Settings = { seconds: 1, rounds: 2, largePairs: 1_500, large: { tenants: 100_000, groups: 10_000, tenantsPerGroup: 10, bigGroupTenants: 10_000 }, extrasSeconds: 1 };

function scenarios(quick: boolean): Scenario[] {
  const all = [1, 8, 32];
  const list: Scenario[] = [
    { name: 'example', dataset: 'example', alg: 'RS256', store: 'sqlite', hash: 'keyed', connections: quick ? [1, 32] : all, extras: !quick },
    { name: 'example-es256', dataset: 'example', alg: 'ES256', store: 'sqlite', hash: 'keyed', connections: [32], extras: true },
    { name: 'example-eddsa', dataset: 'example', alg: 'EdDSA', store: 'sqlite', hash: 'keyed', connections: [32], extras: true },
    { name: 'large', dataset: 'large', alg: 'RS256', store: 'sqlite', hash: 'keyed', connections: quick ? [32] : [8, 32], extras: false },
    { name: 'example-pg', dataset: 'example', alg: 'RS256', store: 'postgres+redis', hash: 'keyed', connections: [32], extras: false },
    { name: 'large-pg', dataset: 'large', alg: 'RS256', store: 'postgres+redis', hash: 'keyed', connections: [32], extras: false },
    { name: 'example-slow-hash', dataset: 'example', alg: 'RS256', store: 'sqlite', hash: 'slow', connections: [32], extras: false, seconds: 4 },
  ];
  return quick ? list.filter((s) => s.name === 'example' || s.name === 'large') : list;
}

const baselineCredentials = { clientId: 'baseline-client', clientSecret: `tgs_${randomBytes(32).toString('base64url')}` };

function withBaselineCredentials(requests: PreparedRequest[]): PreparedRequest[] {
  const authorization = `Basic ${Buffer.from(`${baselineCredentials.clientId}:${baselineCredentials.clientSecret}`).toString('base64')}`;
  return requests.map((request) => ({ ...request, headers: { ...request.headers, authorization } }));
}

interface Pair {
  tenantgate: LoadResult[];
  baseline: LoadResult[];
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/**
 * Measures one connection count: `rounds` runs of each server, alternating which goes first,
 * so machine drift (other processes, thermal state) hits both alike.
 */
async function measureConnections(tenantgate: ServerProcess, baseline: ServerProcess, requests: { tenantgate: PreparedRequest[]; baseline: PreparedRequest[] }, connections: number, settings: Settings): Promise<Pair> {
  const pair: Pair = { tenantgate: [], baseline: [] };
  for (let round = 0; round < settings.rounds; round += 1) {
    const order = round % 2 === 0 ? (['baseline', 'tenantgate'] as const) : (['tenantgate', 'baseline'] as const);
    for (const which of order) {
      const server = which === 'tenantgate' ? tenantgate : baseline;
      pair[which].push(await drive(server.url, requests[which], connections, settings.seconds, server.cpuSeconds));
    }
  }
  return pair;
}

function summarise(scenario: Scenario, connections: number, pair: Pair, extra: Pick<ScenarioResult, 'rss_mib' | 'rss_peak_mib' | 'startup_ms'>): ScenarioResult {
  const rps = mean(pair.tenantgate.map((r) => r.rps));
  const baselineRps = mean(pair.baseline.map((r) => r.rps));
  return {
    name: scenario.name,
    dataset: scenario.dataset,
    alg: scenario.alg,
    store: scenario.store,
    secret_hash: scenario.hash === 'keyed' ? 'hmac-sha256' : 'scrypt+hmac-sha256',
    connections,
    rps: Math.round(rps),
    p50_ms: mean(pair.tenantgate.map((r) => r.p50Ms)),
    // The worst p99 of the rounds, not their mean: a target on p99 should not be averaged away.
    p99_ms: Math.max(...pair.tenantgate.map((r) => r.p99Ms)),
    baseline_rps: Math.round(baselineRps),
    baseline_p50_ms: mean(pair.baseline.map((r) => r.p50Ms)),
    baseline_p99_ms: Math.max(...pair.baseline.map((r) => r.p99Ms)),
    ratio: Number((rps / baselineRps).toFixed(3)),
    cpu_us_per_request: Math.round(mean(pair.tenantgate.map((r) => r.cpuMicrosPerRequest))),
    baseline_cpu_us_per_request: Math.round(mean(pair.baseline.map((r) => r.cpuMicrosPerRequest))),
    failures: pair.tenantgate.reduce((sum, r) => sum + r.failures, 0),
    baseline_failures: pair.baseline.reduce((sum, r) => sum + r.failures, 0),
    ...extra,
  };
}

async function startTenantgate(scenario: Scenario, store: BenchStore, workDir: string, profileDir: string | undefined): Promise<{ server: ServerProcess; data: SeededData; restart(): Promise<ServerProcess> }> {
  const port = await freePort();
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://127.0.0.1:${port}`,
    DATABASE_URL: store.databaseUrl,
    DATA_KEY: randomBytes(32).toString('hex'),
    SIGNING_ALG: scenario.alg,
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    ...(store.redisUrl ? { REDIS_URL: store.redisUrl } : {}),
    ...(store.redisKeyPrefix ? { REDIS_KEY_PREFIX: store.redisKeyPrefix } : {}),
    ...threadpoolEnv(),
  };
  const data = await seedDatabase(env, scenario.dataset === 'large' ? currentSettings.large : undefined);
  const entry = scenario.hash === 'slow' ? 'dist/bench/slow-hash-server.js' : 'dist/src/main.js';
  const start = () =>
    startProcess({
      name: `tenantgate-${scenario.name}`,
      args: [join(repoRoot, entry)],
      env,
      port,
      readyPath: '/readyz',
      logDir: workDir,
      nodeOptions: [...startFlags(), ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=tenantgate.${Date.now()}.cpuprofile`] : [])],
    });
  return { server: await start(), data, restart: start };
}

async function startBaseline(scenario: Scenario, data: SeededData, workDir: string, profileDir: string | undefined): Promise<ServerProcess> {
  const port = await freePort();
  return startProcess({
    name: `baseline-${scenario.name}`,
    args: [join(repoRoot, 'dist/bench/baseline-server.js'), String(port), scenario.alg, data.audience, data.scope, baselineCredentials.clientId, baselineCredentials.clientSecret],
    env: { NODE_ENV: 'production', ...threadpoolEnv() },
    port,
    readyPath: '/jwks',
    logDir: workDir,
    nodeOptions: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-name=baseline.cpuprofile'] : [],
  });
}

let currentSettings: Settings = FULL;
// The connection count of the large network's comparison with the example customer.
const COMPARISON_CONNECTIONS = 32;

/** Passes UV_THREADPOOL_SIZE on to both servers alike, for runs that compare pool sizes. */
function threadpoolEnv(): Record<string, string> {
  const size = process.env.UV_THREADPOOL_SIZE;
  return size ? { UV_THREADPOOL_SIZE: size } : {};
}

interface Extras {
  largeVsExample: ResultsFile['large_vs_example'];
  verification: ResultsFile['verification'];
  introspection: ResultsFile['introspection'];
  hub_group_page: ResultsFile['hub_group_page'];
  startup: ResultsFile['startup'];
}

async function measureExtras(scenario: Scenario, tenantgate: ServerProcess, requests: PreparedRequest[], extras: Extras): Promise<void> {
  const tokens = [];
  for (let i = 0; i < 100; i += 1) tokens.push(await issueToken(tenantgate.url, requests[i % requests.length]!));
  const verification = await verificationThroughput(tenantgate.url, tokens, currentSettings.extrasSeconds);
  extras.verification.push({ alg: scenario.alg, ops_per_s: Math.round(verification.opsPerSecond) });

  if (scenario.alg !== 'RS256') return;
  const token = tokens[0]!.token;
  const authorization = requests[0]!.headers.authorization!;
  const check = await fetch(`${tenantgate.url}/token/introspection`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
  const answer = (await check.json()) as { active?: boolean };
  if (answer.active !== true) throw new Error(`introspection returned the token as inactive: ${JSON.stringify(answer)}`);
  const result = await introspectionThroughput(tenantgate.url, token, authorization, 32, currentSettings.seconds);
  extras.introspection.push({ alg: scenario.alg, connections: 32, rps: Math.round(result.rps), p50_ms: result.p50Ms, p99_ms: result.p99Ms, failures: result.failures });
}

/**
 * Measures the "flat cost" target: the large network's requests on its database against the
 * example customer's requests on a database of the example customer alone. A second tenantgate
 * process of the same scenario serves the latter, in alternating rounds as with the baseline.
 */
async function compareWithExample(scenario: Scenario, large: ServerProcess, largeRequests: PreparedRequest[], workDir: string, extras: Extras): Promise<void> {
  progress(scenario, 'comparing with the example customer on its own database');
  const name = `${scenario.name}-example`;
  const store = await createBenchStore(scenario.store, workDir, name);
  if (!store) return;
  let example: ServerProcess | undefined;
  try {
    const started = await startTenantgate({ ...scenario, name, dataset: 'example' }, store, workDir, undefined);
    example = started.server;
    const exampleRequests = tokenRequests(started.data.clients, started.data.scope, Number.POSITIVE_INFINITY);
    const warmFailures = await warmUp(example.url, exampleRequests, 8);
    if (warmFailures > 0) throw new Error(`${warmFailures} warm-up requests of ${name} failed`);
    // measureConnections alternates two servers; here the second is the example customer's.
    // One more round than the baseline comparisons: the target's 5% is close to the noise here.
    const settings = { ...currentSettings, rounds: currentSettings.rounds + 1 };
    const pair = await measureConnections(large, example, { tenantgate: largeRequests, baseline: exampleRequests }, COMPARISON_CONNECTIONS, settings);
    const largeRps = mean(pair.tenantgate.map((r) => r.rps));
    const exampleRps = mean(pair.baseline.map((r) => r.rps));
    extras.largeVsExample.push({
      scenario: scenario.name,
      store: scenario.store,
      connections: COMPARISON_CONNECTIONS,
      large_rps: Math.round(largeRps),
      example_rps: Math.round(exampleRps),
      large_cpu_us_per_request: Math.round(mean(pair.tenantgate.map((r) => r.cpuMicrosPerRequest))),
      example_cpu_us_per_request: Math.round(mean(pair.baseline.map((r) => r.cpuMicrosPerRequest))),
      failures: [...pair.tenantgate, ...pair.baseline].reduce((sum, r) => sum + r.failures, 0),
      change: Number((largeRps / exampleRps - 1).toFixed(3)),
    });
  } finally {
    await example?.stop();
    await store.drop();
  }
}

function progress(scenario: Scenario, step: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${scenario.name}: ${step}\n`);
}

async function runScenario(scenario: Scenario, workDir: string, profileDir: string | undefined, results: ScenarioResult[], extras: Extras): Promise<void> {
  const store = await createBenchStore(scenario.store, workDir, scenario.name);
  if (!store) {
    process.stderr.write(`skipping ${scenario.name}: Postgres or Redis is not reachable on 127.0.0.1\n`);
    return;
  }
  let tenantgate: ServerProcess | undefined;
  let baseline: ServerProcess | undefined;
  try {
    progress(scenario, 'seeding and starting servers');
    const started = await startTenantgate(scenario, store, workDir, profileDir);
    tenantgate = started.server;
    baseline = await startBaseline(scenario, started.data, workDir, profileDir);

    const pairs = scenario.dataset === 'large' ? currentSettings.largePairs : Number.POSITIVE_INFINITY;
    const tgRequests = tokenRequests(started.data.clients, started.data.scope, pairs);
    const requests = { tenantgate: tgRequests, baseline: withBaselineCredentials(tgRequests) };
    assertSameTokenShape(await issueToken(tenantgate.url, tgRequests[0]!), await issueToken(baseline.url, requests.baseline[0]!));

    progress(scenario, 'warming up');
    const slow = scenario.hash === 'slow';
    const warmFailures = (await warmUp(tenantgate.url, tgRequests, 8, slow ? 32 : undefined)) + (await warmUp(baseline.url, requests.baseline, 8));
    if (warmFailures > 0) throw new Error(`${warmFailures} warm-up requests of ${scenario.name} failed`);

    for (const connections of scenario.connections) {
      progress(scenario, `measuring at ${connections} connections`);
      const settings = { ...currentSettings, seconds: scenario.seconds ?? currentSettings.seconds };
      const pair = await measureConnections(tenantgate, baseline, requests, connections, settings);
      const result = summarise(scenario, connections, pair, { rss_mib: Math.round(tenantgate.rssMiB()), rss_peak_mib: Math.round(tenantgate.rssPeakMiB()), startup_ms: Math.round(tenantgate.startupMs) });
      results.push(result);
      process.stderr.write(`${formatTable([result], false)}\n`);
    }
    if (scenario.dataset === 'large') await compareWithExample(scenario, tenantgate, tgRequests, workDir, extras);
    if (scenario.extras) await measureExtras(scenario, tenantgate, tgRequests, extras);
    if (scenario.extras && scenario.alg === 'RS256') {
      // The first start above also generated the signing key; the seeding had already migrated the database.
      await tenantgate.stop();
      tenantgate = await started.restart();
      extras.startup.push({ scenario: scenario.name, store: scenario.store, first_start_ms: Math.round(started.server.startupMs), restart_ms: Math.round(tenantgate.startupMs) });
    }
    // Timed after the load, on the first large network only, with the server otherwise idle.
    if (started.data.hub && !extras.hub_group_page.measured) {
      progress(scenario, 'timing hub pages');
      extras.hub_group_page = { measured: true, scenario: scenario.name, pages: await timeHubPages(tenantgate.url, started.data.hub) };
    }
  } finally {
    await tenantgate?.stop();
    await baseline?.stop();
    await store.drop();
  }
}

function machine(): ResultsFile['machine'] {
  const cpu = cpus();
  return {
    cores: cpu.length,
    cpu_model: cpu[0]?.model ?? 'unknown',
    node: process.version,
    os: `linux ${release()}`,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    // Load at the end, the bench's own three processes included; figures are only comparable within one run.
    load_average_1m_at_end: Number(loadavg()[0]!.toFixed(2)),
  };
}

async function main(): Promise<void> {
  const program = new Command()
    .name('bench')
    .option('--quick', 'shorter runs and fewer scenarios (under a minute on 2 cores)')
    .option('--profile', 'write V8 CPU profiles of both servers of the first scenario to bench/profiles/')
    .option('--only <names>', 'comma-separated scenario names to run')
    .option('--out <file>', 'where to write the JSON results', 'bench/results.json')
    .parse();
  const options = program.opts<{ quick?: boolean; profile?: boolean; only?: string; out: string }>();
  currentSettings = options.quick ? QUICK : FULL;

  let selected = scenarios(options.quick === true);
  if (options.only) {
    const names = new Set(options.only.split(','));
    selected = scenarios(false).filter((s) => names.has(s.name));
    if (selected.length === 0) throw new Error(`--only matched no scenario; names are: ${scenarios(false).map((s) => s.name).join(', ')}`);
  }
  const profileDir = options.profile ? resolve(repoRoot, 'bench/profiles') : undefined;
  if (profileDir) {
    mkdirSync(profileDir, { recursive: true });
    selected = selected.slice(0, 1);
  }

  const workDir = mkdtempSync(join(tmpdir(), 'tenantgate-bench-'));
  const started = Date.now();
  const results: ScenarioResult[] = [];
  const extras: Extras = { largeVsExample: [], verification: [], introspection: [], startup: [], hub_group_page: { measured: false, reason: 'no large-network scenario ran' } };
  try {
    for (const scenario of selected) await runScenario(scenario, workDir, profileDir, results, extras);
  } finally {
    if (!process.env.BENCH_KEEP_LOGS) rmSync(workDir, { recursive: true, force: true });
  }

  const file: ResultsFile = {
    date: new Date().toISOString(),
    command: `node dist/bench/run.js ${process.argv.slice(2).join(' ')}`.trim(),
    duration_s: Math.round((Date.now() - started) / 1000),
    settings: { ...currentSettings, load_generator: 'autocannon 8 in the bench process; servers in child processes; all on one machine over loopback' },
    machine: machine(),
    scenarios: results,
    verification: extras.verification,
    introspection: extras.introspection,
    startup: extras.startup,
    hub_group_page: extras.hub_group_page,
    large_vs_example: extras.largeVsExample,
  };
  writeFileSync(resolve(repoRoot, options.out), `${JSON.stringify(file, null, 2)}\n`);
  process.stdout.write(`${formatTable(results, true)}\n`);
  printTargets(file);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
