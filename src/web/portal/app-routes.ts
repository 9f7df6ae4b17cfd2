import Router from '@koa/router';
import type { Context } from 'koa';

import { listAppConnections } from '../../domain/app-connections.js';
import { currentTermsText, listAccessibleApps, requireAccessibleApp, setAppPublished, updateApp } from '../../domain/app-updates.js';
import { listApis } from '../../domain/apis.js';
import { createApp } from '../../domain/apps.js';
import { DomainError } from '../../domain/errors.js';
import type { Api } from '../../domain/types.js';
import type { WebKit } from '../kit.js';
import { appFormOf, appInputOf, emptyAppForm, readAppForm, type AppFormValues } from './app-form.js';
import { accessOf, developerActor, developerOf, PORTAL_HOME, requireDeveloper } from './session.js';

const appPath = (id: string): string => `${PORTAL_HOME}/${encodeURIComponent(id)}`;

interface FormPage {
  title: string;
  action: string;
  submitLabel: string;
  values: AppFormValues;
  apis: readonly Api[];
  termsVersion?: number | undefined;
  published?: boolean | undefined;
  error?: string | undefined;
}

async function showForm(kit: WebKit, ctx: Context, page: FormPage, status = 200): Promise<void> {
  const limits = { min: 60, max: 3600, fallback: kit.domain.settings.accessTokenTtl };
  await kit.render(ctx, 'portal/app-form.njk', { ...page, limits }, status);
}

/** Rule failures of the app form come back on the form with the typed values; others propagate. */
function formProblem(err: unknown): string | undefined {
  if (err instanceof DomainError && (err.status === 400 || err.status === 409)) return err.message;
  return undefined;
}

/** My Apps: list, create, edit, publish and unpublish the organisation's apps, and View Connections. */
export function appRoutes(kit: WebKit): Router {
  const router = new Router({ prefix: PORTAL_HOME });
  router.use(requireDeveloper(kit));

  router.get('/', async (ctx) => {
    const apps = await listAccessibleApps(kit.domain, accessOf(ctx));
    await kit.render(ctx, 'portal/apps.njk', { title: 'My Apps', apps, org: developerOf(ctx).org });
  });

  router.get('/new', async (ctx) => {
    const apis = await listApis(kit.domain.db);
    await showForm(kit, ctx, { title: 'Create an app', action: `${PORTAL_HOME}/new`, submitLabel: 'Create app', values: emptyAppForm(apis, kit.domain.settings.accessTokenTtl), apis });
  });

  router.post('/new', async (ctx) => {
    const form = await kit.form(ctx);
    const apis = await listApis(kit.domain.db);
    const values = readAppForm(form, apis);
    const developer = developerOf(ctx);
    try {
      const app = await createApp(kit.domain, developerActor(ctx), {
        ...appInputOf(values, form),
        developerName: developer.org.name,
        orgId: developer.org.id,
        published: false,
      });
      await kit.redirect(ctx, appPath(app.id), { kind: 'info', text: `${app.name} was created. Publish it when it is ready for hubs to connect.` });
    } catch (err) {
      const error = formProblem(err);
      if (error === undefined) throw err;
      await showForm(kit, ctx, { title: 'Create an app', action: `${PORTAL_HOME}/new`, submitLabel: 'Create app', values, apis, error }, 400);
    }
  });

  router.get('/:id', async (ctx) => {
    const app = await requireAccessibleApp(kit.domain, accessOf(ctx), ctx.params.id!);
    const terms = await currentTermsText(kit.domain, app);
    await kit.render(ctx, 'portal/app.njk', { title: app.name, app, terms, path: appPath(app.id) });
  });

  router.get('/:id/edit', async (ctx) => {
    const app = await requireAccessibleApp(kit.domain, accessOf(ctx), ctx.params.id!);
    const apis = await listApis(kit.domain.db);
    const values = appFormOf(app, await currentTermsText(kit.domain, app), apis);
    await showForm(kit, ctx, { title: `Edit ${app.name}`, action: `${appPath(app.id)}/edit`, submitLabel: 'Save changes', values, apis, termsVersion: app.termsVersion, published: app.published });
  });

  router.post('/:id/edit', async (ctx) => {
    const form = await kit.form(ctx);
    const app = await requireAccessibleApp(kit.domain, accessOf(ctx), ctx.params.id!);
    const apis = await listApis(kit.domain.db);
    const values = readAppForm(form, apis);
    try {
      const result = await updateApp(kit.domain, developerActor(ctx), accessOf(ctx), app.id, appInputOf(values, form));
      const notes = ['Changes saved.'];
      if (result.termsChanged) notes.push(`The terms are now version ${result.app.termsVersion}; new connections accept this version.`);
      if (result.addedScopes.length > 0 && result.app.published) {
        notes.push('Existing connections keep their approved scopes until an administrator of each hub approves the new ones.');
      }
      await kit.redirect(ctx, appPath(app.id), { kind: 'info', text: notes.join(' ') });
    } catch (err) {
      const error = formProblem(err);
      if (error === undefined) throw err;
      await showForm(
        kit,
        ctx,
        { title: `Edit ${app.name}`, action: `${appPath(app.id)}/edit`, submitLabel: 'Save changes', values, apis, termsVersion: app.termsVersion, published: app.published, error },
        400,
      );
    }
  });

  for (const [action, published] of [
    ['publish', true],
    ['unpublish', false],
  ] as const) {
    router.post(`/:id/${action}`, async (ctx) => {
      await kit.form(ctx);
      const app = await setAppPublished(kit.domain, developerActor(ctx), accessOf(ctx), ctx.params.id!, published);
      const text = published
        ? `${app.name} is published; hubs can connect it now.`
        : `${app.name} is unpublished. Hubs cannot connect it any more; existing connections keep working until each hub disconnects them.`;
      await kit.redirect(ctx, appPath(app.id), { kind: 'info', text });
    });
  }

  router.get('/:id/connections', async (ctx) => {
    const app = await requireAccessibleApp(kit.domain, accessOf(ctx), ctx.params.id!);
    const connections = await listAppConnections(kit.domain, accessOf(ctx), app.id);
    await kit.render(ctx, 'portal/connections.njk', { title: `Connections of ${app.name}`, app, connections, path: appPath(app.id) });
  });

  return router;
}
