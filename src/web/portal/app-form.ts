import type { Api, App } from '../../domain/types.js';
import type { UpdateAppInput } from '../../domain/app-updates.js';
import { field, fields, type PageForm } from '../forms.js';

/** One row of the scope picker: a catalogue scope, whether the app requests it, and why. */
export interface ScopeChoice {
  key: string;
  audience: string;
  apiName: string;
  scope: string;
  description: string;
  checked: boolean;
  reason: string;
}

/** The app form's values as the developer typed them, so a rejected form comes back filled in. */
export interface AppFormValues {
  name: string;
  description: string;
  homepageUrl: string;
  logoUrl: string;
  terms: string;
  tokenTtl: string;
  scopes: ScopeChoice[];
}

const scopeKey = (audience: string, scope: string): string => `${audience}|${scope}`;

function choices(apis: readonly Api[], chosen: ReadonlyMap<string, string>): ScopeChoice[] {
  return apis.flatMap((api) =>
    api.scopes.map((s) => {
      const key = scopeKey(api.audience, s.scope);
      return { key, audience: api.audience, apiName: api.name, scope: s.scope, description: s.description, checked: chosen.has(key), reason: chosen.get(key) ?? '' };
    }),
  );
}

export function emptyAppForm(apis: readonly Api[], defaultTtl: number): AppFormValues {
  return { name: '', description: '', homepageUrl: '', logoUrl: '', terms: '', tokenTtl: String(defaultTtl), scopes: choices(apis, new Map()) };
}

export function appFormOf(app: App, terms: string, apis: readonly Api[]): AppFormValues {
  const chosen = new Map(app.scopes.map((s) => [scopeKey(s.audience, s.scope), s.reason]));
  return {
    name: app.name,
    description: app.description,
    homepageUrl: app.homepageUrl ?? '',
    logoUrl: app.logoUrl ?? '',
    terms,
    tokenTtl: String(app.tokenTtl),
    scopes: choices(apis, chosen),
  };
}

/** Reads the posted app form: checked scopes are `scope` fields, each reason is `reason:<key>`. */
export function readAppForm(form: PageForm, apis: readonly Api[]): AppFormValues {
  const chosen = new Map(fields(form, 'scope').map((key) => [key, field(form, `reason:${key}`)]));
  return {
    name: field(form, 'name'),
    description: field(form, 'description'),
    homepageUrl: field(form, 'homepage_url'),
    logoUrl: field(form, 'logo_url'),
    terms: field(form, 'terms'),
    tokenTtl: field(form, 'token_ttl'),
    scopes: choices(apis, chosen),
  };
}

/**
 * Turns the form into the service's input. A checked key that is not in the catalogue is
 * passed on as written, so the service rejects it with its own message.
 */
export function appInputOf(values: AppFormValues, form: PageForm): UpdateAppInput {
  const keys = fields(form, 'scope');
  const scopes = keys.map((key) => {
    const split = key.lastIndexOf('|');
    const audience = split < 0 ? undefined : key.slice(0, split);
    const scope = split < 0 ? key : key.slice(split + 1);
    return { audience, scope, reason: field(form, `reason:${key}`) };
  });
  const ttlText = values.tokenTtl.trim();
  return {
    name: values.name,
    description: values.description,
    homepageUrl: values.homepageUrl,
    logoUrl: values.logoUrl,
    terms: values.terms,
    scopes,
    tokenTtl: ttlText === '' ? undefined : /^\d{1,6}$/.test(ttlText) ? Number(ttlText) : Number.NaN,
  };
}
