import type { HubAccount } from './seed.js';

// Each page is fetched this many times in a row; the first fetch also warms template caches.
const PAGE_SAMPLES = 7;

export interface PageTiming {
  path: string;
  median_ms: number;
  max_ms: number;
  bytes: number;
}

/** A signed-in browser stand-in over fetch: it keeps cookies and never follows redirects. */
class HubSession {
  readonly #cookies = new Map<string, string>();

  constructor(private readonly base: string) {}

  async request(path: string, init: { method?: string; body?: string } = {}): Promise<Response> {
    const headers: Record<string, string> = { cookie: [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ') };
    if (init.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(`${this.base}${path}`, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0] ?? '';
      const index = pair.indexOf('=');
      this.#cookies.set(pair.slice(0, index), pair.slice(index + 1));
    }
    return response;
  }

  async signIn(email: string, password: string): Promise<void> {
    const form = await (await this.request('/signin')).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form)?.[1];
    if (!csrf) throw new Error('the sign-in page has no CSRF token');
    const response = await this.request('/signin', { method: 'POST', body: new URLSearchParams({ _csrf: csrf, email, password }).toString() });
    await response.text();
    if (response.status !== 303 && response.status !== 302) throw new Error(`hub sign-in failed with status ${response.status}`);
  }
}

/**
 * Times hub pages of the large network over HTTP as a signed-in administrator: the group list
 * (every group of the network), and the edit and connections pages of a group of 10,000 tenants.
 * The time is from sending the request to the last byte of the HTML, one request at a time.
 */
export async function timeHubPages(url: string, account: HubAccount): Promise<PageTiming[]> {
  const session = new HubSession(url);
  await session.signIn(account.email, account.password);

  const group = `/hub/integrations/groups/${encodeURIComponent(account.bigGroupId)}`;
  const timings: PageTiming[] = [];
  for (const path of ['/hub/integrations', `${group}/edit`, `${group}/connections`, '/hub/integrations/tenants?q=L00012']) {
    const samples: number[] = [];
    let bytes = 0;
    for (let i = 0; i < PAGE_SAMPLES; i += 1) {
      const started = performance.now();
      const response = await session.request(path);
      const body = await response.text();
      samples.push(performance.now() - started);
      if (response.status !== 200) throw new Error(`GET ${path} returned ${response.status}`);
      bytes = Buffer.byteLength(body);
    }
    samples.sort((a, b) => a - b);
    timings.push({ path, median_ms: Number(samples[Math.floor(samples.length / 2)]!.toFixed(1)), max_ms: Number(samples.at(-1)!.toFixed(1)), bytes });
  }
  return timings;
}
