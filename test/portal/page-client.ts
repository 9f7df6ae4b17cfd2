/** A minimal browser for page tests: keeps cookies, never follows redirects, reads CSRF fields. */
export class PageClient {
  readonly cookies = new Map<string, string>();

  constructor(readonly baseUrl: string) {}

  private remember(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = ''] = header.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index);
      const value = pair.slice(index + 1);
      if (value === '' || /max-age=0/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private cookieHeader(): Record<string, string> {
    if (this.cookies.size === 0) return {};
    return { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') };
  }

  async get(path: string): Promise<{ status: number; html: string; location: string | null }> {
    const response = await fetch(`${this.baseUrl}${path}`, { redirect: 'manual', headers: this.cookieHeader() });
    this.remember(response);
    return { status: response.status, html: await response.text(), location: response.headers.get('location') };
  }

  async post(path: string, fields: Record<string, string | string[]>): Promise<{ status: number; html: string; location: string | null }> {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) for (const item of Array.isArray(value) ? value : [value]) body.append(name, item);
    const response = await fetch(`${this.baseUrl}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...this.cookieHeader() },
      body: body.toString(),
    });
    this.remember(response);
    return { status: response.status, html: await response.text(), location: response.headers.get('location') };
  }

  /** Loads a page and returns the CSRF token of its first form. */
  async csrfFrom(path: string): Promise<string> {
    const page = await this.get(path);
    const match = /name="_csrf" value="([^"]+)"/.exec(page.html);
    if (!match) throw new Error(`no CSRF field on ${path} (status ${page.status})`);
    return match[1]!;
  }

  /** Submits a form the way a browser would: fetch the page for its token, then POST. */
  async submit(pagePath: string, action: string, fields: Record<string, string | string[]>) {
    const token = await this.csrfFrom(pagePath);
    return this.post(action, { _csrf: token, ...fields });
  }
}

/** Returns the text of the page's error banner, or undefined. */
export function errorBanner(html: string): string | undefined {
  return /<div class="flash flash-error" role="alert">([^<]*)<\/div>/.exec(html)?.[1]?.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}

/** Returns the token of a hub sign-in link path, given as `?token=` or as the last path segment. */
export function signInLinkToken(path: string): string {
  const url = new URL(path, 'http://link.invalid');
  return url.searchParams.get('token') ?? url.pathname.split('/').pop()!;
}
