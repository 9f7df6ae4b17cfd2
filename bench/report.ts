export interface ScenarioResult {
  name: string;
  dataset: 'example' | 'large';
  alg: string;
  store: string;
  secret_hash: string;
  connections: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  baseline_rps: number;
  baseline_p50_ms: number;
  baseline_p99_ms: number;
  /** tenantgate rps / baseline rps, measured in the same run with alternating rounds. */
  ratio: number;
  /**
   * Server CPU time per request, all threads (signing runs in libuv's pool). Less sensitive to
   * other load on the machine than rps, because time spent waiting for a core is not counted.
   */
  cpu_us_per_request: number;
  baseline_cpu_us_per_request: number;
  failures: number;
  baseline_failures: number;
  /** Resident set size of the tenantgate process right after its runs, MiB. */
  rss_mib: number;
  /** Peak resident set size of the tenantgate process so far (VmHWM), MiB. */
  rss_peak_mib: number;
  /** Spawn to the first 200 from /readyz, ms, including migrations and, on a new database, key generation. */
  startup_ms: number;
}

export interface ResultsFile {
  date: string;
  command: string;
  duration_s: number;
  settings: Record<string, unknown>;
  machine: { cores: number; cpu_model: string; node: string; os: string; memory_gib: number; load_average_1m_at_end: number };
  scenarios: ScenarioResult[];
  verification: { alg: string; ops_per_s: number }[];
  introspection: { alg: string; connections: number; rps: number; p50_ms: number; p99_ms: number; failures: number }[];
  startup: { scenario: string; store: string; first_start_ms: number; restart_ms: number }[];
  hub_group_page: { measured: boolean; reason?: string; scenario?: string; pages?: { path: string; median_ms: number; max_ms: number; bytes: number }[] };
  /**
   * The large network's token requests on its database against the example customer's on a
   * database of the example customer alone, two tenantgate processes in alternating rounds.
   */
  large_vs_example: {
    scenario: string;
    store: string;
    connections: number;
    large_rps: number;
    example_rps: number;
    large_cpu_us_per_request: number;
    example_cpu_us_per_request: number;
    failures: number;
    change: number;
  }[];
}

// The memory target is 256 MB (decimal), about 244 MiB.
const RSS_LIMIT_MIB = 256e6 / 2 ** 20;

function pad(value: string, width: number): string {
  return value.length >= width ? value : value + ' '.repeat(width - value.length);
}

/** Formats scenario rows as a fixed-width table, with or without the header line. */
export function formatTable(rows: ScenarioResult[], header: boolean): string {
  const columns: [string, number, (r: ScenarioResult) => string][] = [
    ['scenario', 18, (r) => r.name],
    ['alg', 6, (r) => r.alg],
    ['store', 15, (r) => r.store],
    ['conn', 5, (r) => String(r.connections)],
    ['rps', 7, (r) => String(r.rps)],
    ['p50 ms', 7, (r) => r.p50_ms.toFixed(1)],
    ['p99 ms', 7, (r) => r.p99_ms.toFixed(1)],
    ['base rps', 9, (r) => String(r.baseline_rps)],
    ['base p99', 9, (r) => r.baseline_p99_ms.toFixed(1)],
    ['ratio', 6, (r) => r.ratio.toFixed(2)],
    ['cpu us', 7, (r) => String(r.cpu_us_per_request)],
    ['base cpu', 9, (r) => String(r.baseline_cpu_us_per_request)],
    ['fail', 5, (r) => String(r.failures + r.baseline_failures)],
    ['rss MiB', 8, (r) => String(r.rss_mib)],
    ['peak MiB', 9, (r) => String(r.rss_peak_mib)],
    ['start ms', 8, (r) => String(r.startup_ms)],
  ];
  const lines = rows.map((row) => columns.map(([, width, cell]) => pad(cell(row), width)).join(' '));
  if (header) lines.unshift(columns.map(([title, width]) => pad(title, width)).join(' '));
  return lines.join('\n');
}

/** Prints the extra measurements and each target with whether this run met it. */
export function printTargets(file: ResultsFile): void {
  const out: string[] = [''];
  for (const v of file.verification) out.push(`JWT verification (jose, remote JWKS, ${v.alg}): ${v.ops_per_s} per second`);
  for (const i of file.introspection) out.push(`introspection (${i.alg}, ${i.connections} connections): ${i.rps} rps, p50 ${i.p50_ms} ms, p99 ${i.p99_ms} ms`);
  for (const s of file.startup) out.push(`start-up to /readyz (${s.scenario}): first start ${s.first_start_ms} ms, restart ${s.restart_ms} ms`);
  for (const c of file.large_vs_example) {
    out.push(`large network against the example customer on its own server (${c.scenario}, ${c.connections} connections): ${c.large_rps} rps against ${c.example_rps}, CPU ${c.large_cpu_us_per_request} µs against ${c.example_cpu_us_per_request} µs per request`);
  }
  if (!file.hub_group_page.measured) out.push(`hub pages: not measured (${file.hub_group_page.reason})`);
  for (const page of file.hub_group_page.pages ?? []) out.push(`hub page ${page.path}: median ${page.median_ms} ms, max ${page.max_ms} ms, ${page.bytes} bytes`);

  const find = (name: string, connections: number) => file.scenarios.find((s) => s.name === name && s.connections === connections);
  const example = find('example', 32);
  const large = find('large', 32);
  out.push('', 'targets:');
  if (example) {
    out.push(`  ratio >= 1.0 at 32 connections (example): ${example.ratio.toFixed(2)} ${example.ratio >= 1 ? 'met' : 'MISSED'}`);
    out.push(`  p99 <= 20 ms at 32 connections (example): ${example.p99_ms.toFixed(1)} ms ${example.p99_ms <= 20 ? 'met' : 'MISSED'}`);
  }
  for (const c of file.large_vs_example) {
    out.push(`  large network within 5% of example (${c.scenario}, ${c.connections} connections): ${(c.change * 100).toFixed(1)}% ${Math.abs(c.change) <= 0.05 ? 'met' : 'MISSED'}`);
  }
  if (example && large && file.large_vs_example.length === 0) {
    // Compared as ratios to the baseline of the same scenario, so drift between the two scenarios cancels.
    const change = large.ratio / example.ratio - 1;
    out.push(`  large network within 5% of example (ratio to baseline): ${(change * 100).toFixed(1)}% ${Math.abs(change) <= 0.05 ? 'met' : 'MISSED'}`);
  }
  for (const s of file.scenarios.filter((row) => row.connections === 32 && row.dataset === 'large')) {
    out.push(`  RSS under 256 MB (${RSS_LIMIT_MIB.toFixed(1)} MiB) with the large network, peak (${s.name}): ${s.rss_peak_mib} MiB ${s.rss_peak_mib < RSS_LIMIT_MIB ? 'met' : 'MISSED'}`);
  }
  for (const page of file.hub_group_page.pages ?? []) {
    out.push(`  hub page under 300 ms with 10,000 tenants (${page.path}): max ${page.max_ms} ms ${page.max_ms < 300 ? 'met' : 'MISSED'}`);
  }
  const failed = file.scenarios.reduce((sum, s) => sum + s.failures + s.baseline_failures, 0) + file.large_vs_example.reduce((sum, c) => sum + c.failures, 0);
  out.push(`  no failed request while measuring: ${failed} failed ${failed === 0 ? 'met' : 'MISSED (the figures above are not valid)'}`);
  const restart = file.startup.find((s) => s.store === 'sqlite');
  if (restart) out.push(`  start-up to /readyz under 2 s on SQLite (restart): ${restart.restart_ms} ms ${restart.restart_ms < 2000 ? 'met' : 'MISSED'}`);
  process.stdout.write(`${out.join('\n')}\n`);
}
