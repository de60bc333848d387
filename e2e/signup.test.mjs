// From demo to customer on the page (crates/gateway/static/account.js and app.js), in headless
// Chromium against the real local stack:
//   - a prospect sells at the point of sale and changes the stock of an ingredient, tries to
//     edit a recipe (the demo policy refuses every PUT, so the button explains and offers
//     "Crear mi cuenta"), takes that offer, keeps catalog, suppliers and stock but not sales,
//     lands logged in as the new customer (no DEMO badge, no timer, no checklist), sees the
//     adjusted stock and no sales, edits the recipe and an ingredient (which the demo
//     refuses), logs out ("Salir") and back in through "Entrar" and finds the edited recipe;
//   - a taken address is shown on the email field;
//   - "Empezar de nuevo" brings a changed value back;
//   - "Entrar" with the published demo credentials starts a demo;
//   - the sign-up form on a phone.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { accessibilityProblems, api, BASE_URL, launch, milestonesOf, openPage, screenshot, settled, storedSession, todayUtc } from './support.mjs';

const PRODUCT = 'Barra de pan';
const FLOUR = 'Harina de trigo T55';
const PASSWORD = 'MasaMadre2026';

describe('from demo to customer', () => {
  let chromium;
  const created = [];

  before(async () => {
    chromium = await launch();
  });

  after(async () => {
    for (const id of created) await api('DELETE', `/api/demo/session/${id}`).catch(() => {});
    await chromium?.close();
  });

  async function start(page, account = 'individual_bakery') {
    await page.goto(`${BASE_URL}/`);
    await page.locator(`article.account-${account}`).getByRole('button', { name: 'Probar demo' }).click();
    await page.locator('#demo-badge').waitFor({ state: 'visible', timeout: 30_000 });
    await settled(page);
    const session = await storedSession(page);
    created.push(session.session_id);
    return session;
  }

  async function go(page, tab) {
    await page.locator('#tabs').getByRole('link', { name: tab, exact: true }).click();
    await page.waitForFunction((t) => document.querySelector('#tabs a[aria-current="page"]')?.textContent.trim() === t, tab);
    await settled(page);
  }

  /** The stock the ingredients table shows for `name`. */
  async function stockOf(page, name) {
    const row = page.locator('table.ingredients tbody tr').filter({ hasText: name }).first();
    return Number(await row.locator('.stock').getAttribute('data-stock'));
  }

  async function adjustFlour(page, amount) {
    await go(page, 'Ingredientes');
    const before = await stockOf(page, FLOUR);
    await page.locator('table.ingredients tbody tr').filter({ hasText: FLOUR }).first().getByRole('button', { name: `Ajustar: ${FLOUR}` }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/Cantidad/).fill(String(amount));
    await dialog.getByRole('button', { name: 'Guardar ajuste' }).click();
    await page.locator('.toast-success').filter({ hasText: `${FLOUR}: existencias` }).waitFor();
    await page.waitForFunction(
      ([name, value]) =>
        [...document.querySelectorAll('table.ingredients tbody tr')].some(
          (r) => r.textContent.includes(name) && Math.abs(Number(r.querySelector('.stock')?.dataset.stock) - value) < 1e-6,
        ),
      [FLOUR, before + amount],
    );
    return before + amount;
  }

  async function sell(page) {
    await go(page, 'Punto de venta');
    const tile = page.locator('.tile').filter({ hasText: PRODUCT });
    if (Number(await tile.locator('.tile-stock').getAttribute('data-stock')) < 2) {
      await page.getByRole('button', { name: `Registrar hornada: ${PRODUCT}` }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel(/Cantidad/).fill('40');
      await dialog.getByRole('button', { name: 'Guardar ajuste' }).click();
      await page.locator('.toast-success').filter({ hasText: `${PRODUCT}: existencias` }).waitFor();
      await settled(page);
    }
    await tile.click();
    await tile.click();
    await page.getByRole('radio', { name: 'Efectivo' }).check();
    await page.getByRole('button', { name: 'Cobrar' }).click();
    await page.locator('#pos-result .notice-ok').waitFor();
  }

  it('a prospect keeps catalog, suppliers and stock but not sales, lands in the account, edits, logs out and back in', async () => {
    const { page } = await openPage(chromium.browser);
    const session = await start(page);
    const id = session.session_id;

    // the demo: a sale, and a stock adjustment (what the demo lets one change besides sales and orders)
    await sell(page);
    const flour = await adjustFlour(page, 37);

    // editing a recipe is refused in the demo; the refusal offers "Crear mi cuenta", which opens the form
    await go(page, 'Productos y recetas');
    const editRecipe = page.getByRole('button', { name: `Editar receta: ${PRODUCT}`, exact: true });
    assert.equal(await editRecipe.getAttribute('aria-disabled'), 'true');
    // (aria-disabled: focusable, Enter explains instead of calling the API)
    await editRecipe.focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.getByRole('dialog').count(), 0, 'no recipe form in the demo');
    const refusal = page.locator('.toast').filter({ hasText: 'no está permitida en cuentas demo' });
    await refusal.waitFor();
    // the header has it too
    assert.ok(await page.locator('#session-extra').getByRole('button', { name: 'Crear mi cuenta' }).isVisible());
    await refusal.getByRole('button', { name: 'Crear mi cuenta' }).click();
    await page.getByRole('heading', { name: 'Sigue con tu panadería, ya como cliente' }).waitFor();
    for (let i = 0; i < 50 && !milestonesOf(id).includes('signup_started:'); i += 1) await page.waitForTimeout(200);
    assert.ok(milestonesOf(id).includes('signup_started:'), 'opening the form posts signup_started');

    // what would be kept: counted by GET …/convert, shown per data set
    const preview = (await api('GET', `/api/demo/session/${id}/convert`, { sessionId: id })).json;
    const rowsOf = Object.fromEntries(preview.data_sets.map((d) => [d.id, d.rows]));
    await page.waitForFunction(() => document.getElementById('keep-catalog-count')?.dataset.rows !== undefined);
    assert.match(await page.locator('#keep-catalog-count').innerText(), /30 ingredientes/);
    assert.equal(Number(await page.locator('#keep-catalog-count').getAttribute('data-rows')), rowsOf.catalog);
    assert.match(await page.locator('#keep-sales-count').innerText(), /ventas/);
    // the dependencies tick themselves: orders bring suppliers and the catalog
    const box = (set) => page.locator(`#keep-${set}`);
    await box('orders').check();
    assert.ok(await box('suppliers').isChecked());
    assert.ok(await box('suppliers').isDisabled());
    assert.match(await page.locator('#keep-suppliers-note').innerText(), /lo necesita: Pedidos/);
    await box('orders').uncheck();
    assert.ok(!(await box('suppliers').isDisabled()));
    // keep catalog, suppliers and stock; not orders, not sales
    for (const set of ['catalog', 'suppliers', 'stock']) await box(set).check();
    for (const set of ['orders', 'sales']) await box(set).uncheck();
    const expected = rowsOf.catalog + rowsOf.suppliers + rowsOf.stock;
    await page.waitForFunction(
      (n) => document.getElementById('keep-summary')?.textContent.replace(/\D/g, '').startsWith(String(n)),
      expected,
    );
    assert.deepEqual(await accessibilityProblems(page), []);

    // the page's own checks: the password rules, next to the field
    const bakery = `Horno de Prueba ${Date.now()}`;
    const email = `lucia.${Date.now()}@horno-e2e.es`;
    await page.getByLabel('Nombre de tu panadería').fill(bakery);
    await page.getByLabel('Tu nombre').fill('Lucía Martín');
    await page.getByLabel('Correo electrónico').fill(email);
    await page.getByLabel('Contraseña', { exact: true }).fill('corta');
    await page.locator('#su-submit').click();
    await page.locator('#su-password-error').filter({ hasText: 'al menos 10 caracteres' }).waitFor();
    assert.equal(await page.getByLabel('Contraseña', { exact: true }).getAttribute('aria-invalid'), 'true');
    await page.getByLabel('Contraseña', { exact: true }).fill(PASSWORD);
    assert.equal(await page.locator('.password-rules li.rule-ok').count(), 2);
    await screenshot(page, 'signup', { fullPage: true });

    // the account: logged in as the customer, in the same page
    await page.locator('#su-submit').click();
    await page.locator('#customer-bar').waitFor({ state: 'visible', timeout: 30_000 });
    await settled(page);
    assert.equal(await page.locator('#customer-bakery').innerText(), bakery);
    for (const demoOnly of ['#demo-badge', '#countdown', '#checklist', '#session-extra']) {
      assert.ok(!(await page.locator(demoOnly).isVisible()), `${demoOnly} is gone`);
    }
    const stored = await page.evaluate(() => ({
      customer: JSON.parse(sessionStorage.getItem('bakery-ia.customer') || 'null'),
      demo: sessionStorage.getItem('bakery-ia.demo-session'),
    }));
    assert.ok(stored.customer?.access_token, 'the access token is kept for the tab');
    assert.equal(stored.demo, null, 'the demo session is forgotten');
    const bearer = { Authorization: `Bearer ${stored.customer.access_token}` };
    // the demo is over
    assert.equal((await api('GET', `/api/demo/session/${id}`)).status, 401);

    // no demo sales: none today on the panel, none at all in the account
    await page.locator('.kpi').filter({ hasText: 'Ventas de hoy' }).filter({ hasText: '0 tickets' }).waitFor();
    const sales = await api('GET', `/api/sales?from=2000-01-01&to=${todayUtc()}&limit=1`, { headers: bearer });
    assert.equal(sales.status, 200);
    assert.equal(sales.json.total, 0, 'sales were not kept');

    // the adjusted stock came along; the demo refused editing an ingredient, the customer may
    await go(page, 'Ingredientes');
    assert.equal(await stockOf(page, FLOUR), flour, 'the stock adjusted in the demo was kept');
    const newButton = page.getByRole('button', { name: 'Nuevo ingrediente' });
    assert.equal(await newButton.getAttribute('aria-disabled'), null, 'creating is enabled');
    const row = page.locator('table.ingredients tbody tr').filter({ hasText: FLOUR }).first();
    await row.getByRole('button', { name: `Editar: ${FLOUR}` }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Coste por unidad (€)').fill('0.97');
    await dialog.getByRole('button', { name: 'Guardar cambios' }).click();
    await page.locator('.toast-success').filter({ hasText: 'Cambios guardados' }).waitFor();
    await settled(page);
    await page.locator('table.ingredients tbody tr').filter({ hasText: FLOUR }).first().filter({ hasText: '0,97' }).waitFor();
    const ingredients = await api('GET', '/api/inventory/ingredients?limit=200', { headers: bearer });
    assert.equal(ingredients.json.items.find((i) => i.name === FLOUR).unit_cost, 0.97);
    assert.ok(ingredients.json.items.find((i) => i.name === FLOUR).supplier_id, 'its supplier (kept) is still set');
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'customer');
    // the recipes were kept; the customer edits one: more flour per batch
    await go(page, 'Productos y recetas');
    assert.ok((await page.locator('article.product details.recipe').count()) > 0, 'the recipes were kept');
    const recipeButton = page.getByRole('button', { name: `Editar receta: ${PRODUCT}`, exact: true });
    assert.equal(await recipeButton.getAttribute('aria-disabled'), null, 'editing a recipe is enabled');
    await recipeButton.click();
    const recipeForm = page.getByRole('dialog');
    const flourLine = recipeForm.getByLabel(new RegExp(`^${FLOUR}`));
    const flourPerBatch = Number(await flourLine.inputValue()) + 0.5;
    await flourLine.fill(String(flourPerBatch));
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'recipe-edit');
    await recipeForm.getByRole('button', { name: 'Guardar receta' }).click();
    await page.locator('.toast-success').filter({ hasText: `Receta guardada: ${PRODUCT}` }).waitFor();
    await settled(page);
    const recipeLine = async () => {
      const recipes = await api('GET', '/api/recipes?limit=200', { headers: bearer });
      const recipe = recipes.json.items.find((r) => r.product_name === PRODUCT);
      return Number(recipe.lines.find((l) => l.ingredient_name === FLOUR).quantity);
    };
    assert.equal(await recipeLine(), flourPerBatch, 'the recipe edit was saved');
    // forecasts are not locked for a customer
    assert.equal(await page.locator('#tabs a[data-view="prevision"] .lock').count(), 0);

    // "Salir", then "Entrar" with the new credentials
    await page.getByRole('button', { name: 'Salir' }).click();
    await page.getByRole('heading', { name: 'Prueba Bakery-IA con una panadería de verdad' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('bakery-ia.customer')), null);
    assert.ok(!(await page.locator('#customer-bar').isVisible()));
    await page.locator('#login-link').click();
    await page.getByRole('heading', { name: 'Entrar', level: 1 }).waitFor();
    await settled(page);
    await page.getByLabel('Correo electrónico').fill(email);
    await page.getByLabel('Contraseña').fill('NoEsLaBuena99');
    await page.locator('#login-submit').click();
    await page.locator('#login-password-error').filter({ hasText: 'no son correctos' }).waitFor();
    await page.getByLabel('Contraseña').fill(PASSWORD);
    assert.equal(await page.locator('#login-password-error').innerText(), '', 'the error goes once the password changes');
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'login');
    await page.locator('#login-submit').click();
    await page.locator('#customer-bar').waitFor({ state: 'visible' });
    await settled(page);
    assert.equal(await page.locator('#customer-bakery').innerText(), bakery);
    await go(page, 'Ingredientes');
    assert.equal(await stockOf(page, FLOUR), flour);
    // the edited recipe, as the page shows it
    await go(page, 'Productos y recetas');
    const card = page.locator('article.product').filter({ has: page.getByRole('heading', { name: PRODUCT, exact: true }) });
    await card.locator('details.recipe summary').click();
    const shown = card.locator('details.recipe tbody tr').filter({ hasText: FLOUR });
    const perBatch = new Intl.NumberFormat('es-ES', { maximumFractionDigits: 3 }).format(flourPerBatch);
    assert.ok((await shown.innerText()).includes(perBatch), `the flour line shows ${perBatch}`);

    // a token no longer accepted (401): back to the landing, with a message
    await page.evaluate(() => {
      const c = JSON.parse(sessionStorage.getItem('bakery-ia.customer'));
      c.access_token = 'no.es.valido';
      sessionStorage.setItem('bakery-ia.customer', JSON.stringify(c));
    });
    await page.reload();
    await page.locator('#landing-notice').filter({ hasText: 'Vuelve a entrar' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('bakery-ia.customer')), null);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  it('shows a taken address on the email field', async () => {
    const { page } = await openPage(chromium.browser);
    await start(page, 'central_baker_satellite');
    const accounts = (await api('GET', '/api/demo/accounts')).json.accounts;
    await page.locator('#signup-cta').click();
    await page.getByLabel('Nombre de tu panadería').fill('Horno Repetido');
    await page.getByLabel('Tu nombre').fill('Pedro Ruiz');
    // the published demo account's address already has a user
    await page.getByLabel('Correo electrónico').fill(accounts[0].email);
    await page.getByLabel('Contraseña', { exact: true }).fill(PASSWORD);
    await page.locator('#su-submit').click();
    const error = page.locator('#su-email-error');
    await error.filter({ hasText: 'Ya existe una cuenta con este correo' }).waitFor();
    assert.equal(await error.getAttribute('aria-live'), 'polite');
    assert.equal(await page.getByLabel('Correo electrónico').getAttribute('aria-invalid'), 'true');
    assert.ok((await page.getByLabel('Correo electrónico').getAttribute('aria-describedby')).includes('su-email-error'));
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'su-email');
    // still in the demo
    assert.ok(await page.locator('#demo-badge').isVisible());
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  it('a second submit after a lost answer lands in the account made by the first', async () => {
    const { page } = await openPage(chromium.browser);
    const session = await start(page);
    const id = session.session_id;
    await page.locator('#signup-cta').click();
    await page.getByRole('heading', { name: 'Sigue con tu panadería, ya como cliente' }).waitFor();
    const body = {
      bakery_name: `Horno Reintento ${Date.now()}`,
      owner_name: 'Marta Gil',
      email: `marta.${Date.now()}@horno-e2e.es`,
      password: PASSWORD,
      keep: ['catalog'],
    };
    await page.getByLabel('Nombre de tu panadería').fill(body.bakery_name);
    await page.getByLabel('Tu nombre').fill(body.owner_name);
    await page.getByLabel('Correo electrónico').fill(body.email);
    await page.getByLabel('Contraseña', { exact: true }).fill(body.password);
    // the first submit reached the server, its answer never came back
    const first = await api('POST', `/api/demo/session/${id}/convert`, { sessionId: id, body });
    assert.equal(first.status, 201, JSON.stringify(first.json));
    // the prospect submits again: the gateway no longer knows the session, the page enters the account
    await page.locator('#su-submit').click();
    await page.locator('#customer-bar').waitFor({ state: 'visible', timeout: 30_000 });
    await settled(page);
    assert.equal(await page.locator('#customer-bakery').innerText(), body.bakery_name);
    const stored = await page.evaluate(() => JSON.parse(sessionStorage.getItem('bakery-ia.customer') || 'null'));
    assert.equal(stored?.tenant_id, first.json.tenant_id, 'the account the first submit made, not a second one');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('bakery-ia.demo-session')), null);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  it('"Empezar de nuevo" brings back what was changed', async () => {
    const { page } = await openPage(chromium.browser);
    const session = await start(page);
    await go(page, 'Ingredientes');
    const original = await stockOf(page, FLOUR);
    await adjustFlour(page, 11);
    assert.equal(await stockOf(page, FLOUR), original + 11);
    await page.getByRole('button', { name: 'Empezar de nuevo' }).click();
    const confirm = page.getByRole('dialog');
    await confirm.getByText('se deshacen tus ventas, ajustes y pedidos').waitFor();
    await confirm.getByRole('button', { name: 'Empezar de nuevo' }).click();
    await page.locator('.toast-success').filter({ hasText: 'vuelve a estar como al principio' }).waitFor();
    await settled(page);
    // the current screen was read again
    await page.waitForFunction(
      ([name, value]) =>
        [...document.querySelectorAll('table.ingredients tbody tr')].some(
          (r) => r.textContent.includes(name) && Math.abs(Number(r.querySelector('.stock')?.dataset.stock) - value) < 1e-6,
        ),
      [FLOUR, original],
    );
    // same session, still running
    assert.equal((await storedSession(page)).session_id, session.session_id);
    assert.ok(await page.locator('#demo-badge').isVisible());
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  it('"Entrar" with the published demo credentials starts a demo', async () => {
    const { page } = await openPage(chromium.browser);
    await page.goto(`${BASE_URL}/`);
    await settled(page);
    await page.getByRole('link', { name: 'Entrar' }).first().click();
    await page.getByRole('heading', { name: 'Entrar', level: 1 }).waitFor();
    await settled(page);
    await page.getByRole('button', { name: /Usar el acceso de Panadería La Espiga/ }).click();
    await page.locator('#login-submit').click();
    await page.locator('#demo-badge').waitFor({ state: 'visible', timeout: 30_000 });
    await settled(page);
    const session = await storedSession(page);
    created.push(session.session_id);
    assert.equal(session.demo_account_type, 'central_baker_satellite');
    assert.match(await page.locator('#countdown-value').innerText(), /^(29|30):\d\d$/);
    assert.ok(await page.locator('#session-extra').isVisible());
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  it('the sign-up form fits a phone', async () => {
    const { page } = await openPage(chromium.browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await start(page);
    // the header's second row: "Crear mi cuenta" and "Empezar de nuevo"
    assert.ok(await page.locator('#signup-cta').isVisible());
    assert.ok(await page.locator('#reset-btn').isVisible());
    await page.locator('#signup-cta').click();
    await page.getByRole('heading', { name: 'Sigue con tu panadería, ya como cliente' }).waitFor();
    await page.waitForFunction(() => document.getElementById('keep-catalog-count')?.dataset.rows !== undefined);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal overflow (${overflow}px)`);
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'signup-phone', { fullPage: true });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});
