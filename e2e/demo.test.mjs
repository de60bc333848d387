// The prospect's demo page, end to end, in headless Chromium against the real local stack
// (scripts/e2e.sh starts it): open `/`, start the San Pablo demo, see the badge, the timer
// and the ingredients, record a sale and see the stock drop, extend once, end the demo and
// check that its data is gone; a second browser context with another session sees none of
// the first one's sale; an ended session shows the expiry message; a phone-sized screen.
//
// Every main screen is also checked with axe-core (WCAG 2.1 A/AA: no serious or critical
// problem). Steps share one browser and run in order. E2E_SCREENSHOTS=<dir> saves the
// screenshots.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  accessibilityProblems,
  api,
  BASE_URL,
  launch,
  openPage,
  redisKeysOfTenant,
  rowsOfTenant,
  screenshot,
  settled,
  storedSession,
} from './support.mjs';
import { inSeason } from '../crates/gateway/static/format.js';

const PRODUCT = 'Barra de pan';
const SOLD = 2;

describe('demo page', () => {
  let chromium;
  const created = []; // session ids to remove whatever happens
  // the first prospect (A) and the second one (B), each in its own browser context
  let a;
  let b;
  let sessionA;
  let sessionB;
  let stockAfterSale;

  const productsOf = async (sessionId) => {
    const r = await api('GET', '/api/products?limit=200', { sessionId });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json.items;
  };
  const onHand = async (sessionId, name) => Number((await productsOf(sessionId)).find((p) => p.name === name)?.on_hand);
  // The prospect's own sales: its template's tickets are shared (read-only rows of the
  // template), so a session's own rows are what it sold.
  const ownSales = (session) => rowsOfTenant(session.virtual_tenant_id)['inventory.sales'];
  const madridToday = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Madrid' }).format(new Date());
  const ticketsToday = async (sessionId) => {
    const day = madridToday();
    const r = await api('GET', `/api/sales/summary?from=${day}&to=${day}&tz=Europe/Madrid`, { sessionId });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json.tickets;
  };
  /**
   * Today's tickets of `x` minus `y`'s, both of one template. The template's tickets keep
   * arriving as the day goes (one every few minutes), so `y` is read before and after
   * `x`: equal reads mean no ticket arrived in between, and the difference is exact.
   */
  const ticketsAhead = async (x, y) => {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const before = await ticketsToday(y.session_id);
      const seen = await ticketsToday(x.session_id);
      const after = await ticketsToday(y.session_id);
      if (before === after) return seen - before;
    }
    throw new Error('the template kept selling while the counts were read');
  };

  /** Starts the demo of `account` from the landing page; returns the stored session. */
  async function startDemo(page, account) {
    await page.goto(`${BASE_URL}/`);
    const card = page.locator(`article.account-${account}`);
    await card.getByRole('button', { name: 'Probar demo' }).click();
    await page.locator('#demo-badge').waitFor({ state: 'visible', timeout: 30_000 });
    await settled(page);
    const session = await storedSession(page);
    // 24 random characters, then the 12-character tag the gateway checks
    assert.match(session.session_id, /^demo_[A-Za-z0-9]{36}$/);
    created.push(session.session_id);
    return session;
  }

  before(async () => {
    chromium = await launch();
  });

  after(async () => {
    for (const id of created) await api('DELETE', `/api/demo/session/${id}`).catch(() => {});
    await chromium?.close();
  });

  it('shows both demo bakeries on the landing page', async () => {
    a = await openPage(chromium.browser);
    await a.page.goto(`${BASE_URL}/`);
    await a.page.getByRole('heading', { name: 'Panadería San Pablo - Demo' }).waitFor();
    await a.page.getByRole('heading', { name: 'Panadería La Espiga - Demo' }).waitFor();
    assert.equal(await a.page.getByRole('button', { name: 'Probar demo' }).count(), 2);
    assert.equal(await a.page.locator('#session-bar').isVisible(), false, 'no session yet');
    assert.deepEqual(await accessibilityProblems(a.page), []);
    await screenshot(a.page, 'landing', { fullPage: true });
  });

  it('turns API errors into friendly Spanish messages, never raw JSON', async () => {
    const { page } = a;
    await page.route('**/api/demo/session/create', (route) =>
      route.fulfill({
        status: 429,
        contentType: 'application/json',
        headers: { 'Retry-After': '120' },
        body: JSON.stringify({ error: 'rate_limited', message: 'Has creado demasiadas demos en poco tiempo. Vuelve a intentarlo más tarde.' }),
      }),
    );
    await page.locator('article.account-individual_bakery').getByRole('button', { name: 'Probar demo' }).click();
    const alert = page.locator('.toast-error');
    await alert.waitFor();
    const text = await alert.innerText();
    assert.match(text, /Has creado demasiadas demos/);
    assert.match(text, /reintentarlo en unos 2 minutos/);
    assert.doesNotMatch(await page.locator('body').innerText(), /"error"|rate_limited/);
    await page.unroute('**/api/demo/session/create');
    await alert.getByRole('button', { name: 'Cerrar aviso' }).click();
  });

  it('starts the San Pablo demo: badge, countdown, dashboard', async () => {
    const { page } = a;
    sessionA = await startDemo(page, 'individual_bakery');
    assert.equal(await page.locator('#demo-badge').innerText(), 'DEMO');
    const clock = await page.locator('#countdown-value').innerText();
    assert.match(clock, /^(29|30):\d\d$/, `countdown ${clock}`);
    assert.match(await page.locator('#extend-btn').innerText(), /Ampliar 30 minutos\s*\(quedan 3\)/);
    // the dashboard: KPIs, the sales chart, stock alerts and lots about to expire
    await page.getByRole('heading', { name: /Hola, Panadería San Pablo/ }).waitFor();
    await page.locator('.chart svg rect').first().waitFor();
    assert.equal(await page.locator('.chart .bar').count(), 8, '7 days and today');
    assert.ok((await page.locator('.kpi').count()) >= 4);
    await page.getByRole('heading', { name: 'Alertas de stock', level: 2 }).waitFor();
    await page.getByRole('heading', { name: 'Lotes a punto de caducar' }).waitFor();
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'dashboard', { fullPage: true });
    // the countdown moves
    await page.waitForFunction((c) => document.getElementById('countdown-value').textContent !== c, clock);
  });

  it('lists the ingredients with their stock; blocked actions are disabled with the reason', async () => {
    const { page } = a;
    await page.getByRole('link', { name: 'Ingredientes' }).click();
    await page.getByRole('heading', { name: 'Ingredientes', level: 1 }).waitFor();
    await settled(page);
    const rows = page.locator('table.ingredients tbody tr');
    assert.ok((await rows.count()) >= 10, 'the template has its ingredients');
    const flour = rows.filter({ hasText: 'Harina de trigo T55' });
    assert.match(await flour.innerText(), /\d+ kg/);
    // the search box filters the rows (accents ignored)
    await page.getByRole('searchbox', { name: 'Buscar ingrediente' }).fill('harína');
    const shown = page.locator('table.ingredients tbody tr:visible');
    await page.waitForFunction(() => [...document.querySelectorAll('table.ingredients tbody tr')].some((r) => r.hidden));
    assert.ok((await shown.count()) >= 3);
    for (const text of await shown.allInnerTexts()) assert.match(text, /Harina/);
    await page.getByRole('searchbox', { name: 'Buscar ingrediente' }).fill('');
    // the policy forbids creating ingredients: the button says why instead of failing
    const create = page.getByRole('button', { name: 'Nuevo ingrediente' });
    assert.equal(await create.getAttribute('aria-disabled'), 'true');
    assert.match(await create.getAttribute('title'), /no está permitida en cuentas demo/);
    // still focusable (aria-disabled), so keyboard users reach it and hear why
    await create.focus();
    await page.keyboard.press('Enter');
    await page.locator('.toast').filter({ hasText: 'no está permitida en cuentas demo' }).waitFor();
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'ingredients', { fullPage: true });
    // products with their recipe and what it costs
    await page.getByRole('link', { name: 'Productos y recetas' }).click();
    await page.getByRole('heading', { name: 'Productos y recetas', level: 1 }).waitFor();
    await settled(page);
    const croissant = page.locator('article.product').filter({ has: page.getByRole('heading', { name: 'Croissant de mantequilla' }) });
    assert.match(await croissant.locator('.facts').innerText(), /Coste receta\s*[\d,]+\s*€/);
    await croissant.locator('details.recipe summary').click();
    assert.ok((await croissant.locator('table.lines tbody tr').count()) >= 3, 'the recipe lists its ingredients');
    assert.match(await croissant.locator('table.lines tfoot').innerText(), /Coste de la tanda/);
    // a seasonal sweet says when it sells
    const seasonal = (await productsOf(sessionA.session_id)).filter((p) => p.season);
    for (const p of seasonal) {
      const badge = page.locator(`article.product[data-id="${p.id}"] [data-season]`);
      assert.equal(await badge.getAttribute('data-season'), `${p.season.from}/${p.season.to}`);
      assert.match(await badge.innerText(), inSeason(p, madridToday()) ? /^De temporada: / : /^Fuera de temporada: /);
    }
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'products', { fullPage: true });
    // forecasts: unavailable in the demo
    await page.getByRole('link', { name: /Previsión/ }).click();
    await page.getByRole('heading', { name: 'No disponible en la demo' }).waitFor();
  });

  it('records a sale at the point of sale and the stock drops', async () => {
    const { page } = a;
    await page.getByRole('link', { name: 'Punto de venta' }).click();
    await page.getByRole('heading', { name: 'Punto de venta', level: 1 }).waitFor();
    await settled(page);
    // the till offers what is on sale on the bakery's day: a seasonal sweet only in its season
    const catalogue = await productsOf(sessionA.session_id);
    assert.ok(catalogue.some((p) => p.season), 'the template has seasonal sweets');
    const offered = new Set((await page.locator('.tile .tile-name').allInnerTexts()).map((t) => t.trim()));
    const day = madridToday();
    for (const p of catalogue) assert.equal(offered.has(p.name), inSeason(p, day), `${p.name} on ${day}`);
    const tile = page.locator('.tile').filter({ hasText: PRODUCT });
    let stock = Number(await tile.locator('.tile-stock').getAttribute('data-stock'));
    if (stock < SOLD) {
      // nothing on the shelf yet: register today's bake with a count (an allowed adjustment)
      await page.getByRole('button', { name: `Registrar hornada: ${PRODUCT}` }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel(/Cantidad/).fill('40');
      await dialog.getByRole('button', { name: 'Guardar ajuste' }).click();
      await page.locator('.toast-success').filter({ hasText: `${PRODUCT}: existencias` }).waitFor();
      await settled(page);
      await page.waitForFunction(
        (name) => [...document.querySelectorAll('.tile')].some((t) => t.textContent.includes(name) && Number(t.querySelector('.tile-stock').dataset.stock) > 0),
        PRODUCT,
      );
      stock = Number(await tile.locator('.tile-stock').getAttribute('data-stock'));
    }
    assert.equal(await onHand(sessionA.session_id, PRODUCT), stock, 'the page shows the API stock');
    for (let i = 0; i < SOLD; i += 1) await tile.click();
    assert.equal(await page.getByLabel(`Cantidad de ${PRODUCT}`).inputValue(), String(SOLD));
    await page.getByRole('radio', { name: 'Efectivo' }).check();
    await page.getByRole('button', { name: 'Cobrar' }).click();
    const result = page.locator('#pos-result .notice-ok');
    await result.waitFor();
    assert.match(await result.innerText(), /Venta registrada/);
    const change = await result.locator('.stock-change').first().innerText();
    stockAfterSale = stock - SOLD;
    assert.match(change.replace(/\s/g, ' '), new RegExp(`^${stock} → ${stockAfterSale} ud\\.$`), change);
    assert.equal(Number(await tile.locator('.tile-stock').getAttribute('data-stock')), stockAfterSale);
    assert.equal(await onHand(sessionA.session_id, PRODUCT), stockAfterSale, 'the stock dropped in the database');
    assert.equal(ownSales(sessionA), 1);
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'pos-after-sale', { fullPage: true });
    // the dashboard counts it, next to the template's tickets of the day so far
    await page.getByRole('link', { name: 'Panel' }).click();
    await settled(page);
    const kpi = page.locator('.kpi').filter({ hasText: 'Ventas de hoy' }).filter({ hasText: /\d+ tickets?/ });
    await kpi.waitFor();
    const shown = Number((await kpi.locator('.kpi-note').innerText()).match(/(\d+)/)[1]);
    assert.ok(shown >= 1, `today's tickets on the dashboard: ${shown}`);
    await page.locator('.card').filter({ hasText: 'El ritmo del mostrador' }).filter({ hasText: 'Ticket medio' }).waitFor();
  });

  it('places an order with a supplier (allowed by the policy)', async () => {
    const { page } = a;
    const ordersBefore = (await api('GET', '/api/orders?limit=1', { sessionId: sessionA.session_id })).json.total;
    await page.getByRole('link', { name: 'Pedidos' }).click();
    await settled(page);
    await page.locator('table.orders .badge').first().waitFor();
    await page.getByRole('button', { name: 'Nuevo pedido' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name: 'Nuevo pedido a proveedor' }).waitFor();
    await dialog.getByLabel(/Cantidad/).fill('5');
    await dialog.getByLabel(/Nota/).fill('Prueba de la demo');
    await dialog.getByRole('button', { name: 'Enviar pedido' }).click();
    const done = page.locator('.toast-success').filter({ hasText: /Pedido .+ enviado/ });
    await done.waitFor();
    const reference = (await done.innerText()).match(/Pedido (\S+) enviado/)[1];
    await page.locator(`table.orders tr[data-reference="${reference}"]`).filter({ hasText: 'Pendiente' }).waitFor();
    assert.equal((await api('GET', '/api/orders?limit=1', { sessionId: sessionA.session_id })).json.total, ordersBefore + 1);
    a.orders = ordersBefore + 1;
  });

  it('a second browser context with another session sees none of the first one\'s sale', async () => {
    b = await openPage(chromium.browser);
    sessionB = await startDemo(b.page, 'individual_bakery');
    assert.notEqual(sessionB.session_id, sessionA.session_id);
    assert.notEqual(sessionB.virtual_tenant_id, sessionA.virtual_tenant_id);
    await b.page.locator('.kpi').filter({ hasText: 'Ventas de hoy' }).filter({ hasText: /\d+ tickets?/ }).waitFor();
    await b.page.getByRole('link', { name: 'Punto de venta' }).click();
    await settled(b.page);
    await b.page.locator('#today-title').waitFor();
    // both read the template's tickets of today; A has its own sale on top, B none
    assert.equal(ownSales(sessionB), 0);
    assert.equal(await ticketsAhead(sessionA, sessionB), 1, "A's sale, and only A's");
    assert.notEqual(await onHand(sessionB.session_id, PRODUCT), stockAfterSale);
    assert.equal((await api('GET', '/api/orders?limit=1', { sessionId: sessionB.session_id })).json.total, a.orders - 1, 'nor its order');
    // and A's session still sees its own
    assert.equal(ownSales(sessionA), 1);
  });

  it('extends the session once, and the session survives a reload', async () => {
    const { page } = a;
    await page.getByRole('button', { name: /Ampliar 30 minutos/ }).first().click();
    await page.locator('.toast-success').filter({ hasText: 'Demo ampliada' }).waitFor();
    await page.waitForFunction(() => /quedan 2/.test(document.getElementById('extend-btn').textContent));
    const minutes = Number((await page.locator('#countdown-value').innerText()).split(':')[0]);
    assert.ok(minutes >= 55, `about an hour left, got ${minutes} minutes`);
    const r = await api('GET', `/api/demo/session/${sessionA.session_id}`);
    assert.equal(r.status, 200);
    assert.equal(r.json.extensions_used, 1);
    assert.equal(r.json.extensions_left, 2);
    await page.reload();
    await page.locator('#demo-badge').waitFor({ state: 'visible' });
    await settled(page);
    assert.equal((await storedSession(page)).session_id, sessionA.session_id);
    assert.match(await page.locator('#extend-btn').innerText(), /quedan 2/);
  });

  it('ends the demo: the session is gone and so is its data', async () => {
    const { page } = a;
    const before = rowsOfTenant(sessionA.virtual_tenant_id);
    assert.ok(before['inventory.sales'] > 0 && before['tenant.tenants'] === 1, JSON.stringify(before));
    await api('GET', '/api/inventory/ingredients', { sessionId: sessionA.session_id }); // cached per tenant
    const keysBefore = redisKeysOfTenant(sessionA.virtual_tenant_id);
    assert.ok(keysBefore.length > 0, 'the tenant has cache keys in Redis');
    await page.getByRole('button', { name: 'Terminar demo' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name: '¿Terminar la demo?' }).waitFor();
    await dialog.getByRole('button', { name: 'Terminar demo' }).click();
    await page.getByRole('heading', { name: 'Demo terminada' }).waitFor();
    assert.equal(await page.locator('#session-bar').isVisible(), false);
    assert.equal(await storedSession(page), null);

    const r = await api('GET', `/api/demo/session/${sessionA.session_id}`);
    assert.equal(r.status, 401);
    assert.equal(r.json.error, 'session_expired');
    const data = await api('GET', '/api/inventory/ingredients', { sessionId: sessionA.session_id });
    assert.equal(data.status, 401, 'its session id no longer opens anything');
    const left = rowsOfTenant(sessionA.virtual_tenant_id);
    const remaining = Object.entries(left).filter(([, n]) => n > 0);
    assert.deepEqual(remaining, [], `rows left behind: ${JSON.stringify(left)}`);
    assert.deepEqual(redisKeysOfTenant(sessionA.virtual_tenant_id), [], `Redis keys left (before: ${keysBefore.length})`);
    // B is untouched
    assert.equal(ownSales(sessionB), 0);
  });

  it('shows a clear message with a way to start again when the session has ended', async () => {
    const { page } = b;
    // B's session ends behind the page's back (as when it expires)
    assert.equal((await api('DELETE', `/api/demo/session/${sessionB.session_id}`)).status, 200);
    await page.getByRole('link', { name: 'Ingredientes' }).click();
    await page.getByRole('heading', { name: 'Tu demo ha caducado' }).waitFor();
    assert.match(await page.locator('.ended').innerText(), /sesión demo ha caducado/);
    assert.doesNotMatch(await page.locator('body').innerText(), /"error"|session_expired/);
    assert.equal(await page.locator('#session-bar').isVisible(), false);
    const again = page.getByRole('button', { name: 'Empezar una nueva demo' });
    await again.waitFor();
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'expired', { fullPage: true });
    // the button starts a fresh session of the same bakery
    await again.click();
    await page.locator('#demo-badge').waitFor({ state: 'visible', timeout: 30_000 });
    const fresh = await storedSession(page);
    created.push(fresh.session_id);
    assert.notEqual(fresh.session_id, sessionB.session_id);
    assert.equal(fresh.demo_account_type, 'individual_bakery');
  });

  it('works on a phone-sized screen and by keyboard; warns 5 minutes before the end', async () => {
    const phone = await openPage(chromium.browser, {
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    const { page } = phone;
    await page.clock.install();
    await page.goto(`${BASE_URL}/`);
    // keyboard only: focus the button and press Enter
    const start = page.locator('article.account-central_baker_satellite').getByRole('button', { name: 'Probar demo' });
    await start.focus();
    await page.keyboard.press('Enter');
    await page.locator('#demo-badge').waitFor({ state: 'visible', timeout: 30_000 });
    await settled(page);
    const session = await storedSession(page);
    created.push(session.session_id);
    await page.getByRole('heading', { name: /Hola, Panadería La Espiga/ }).waitFor();
    await page.locator('.chart svg').waitFor();
    // the short extend button still says how many extensions are left
    assert.equal(await page.locator('#extend-btn .extend-count-short').isVisible(), true);
    assert.equal((await page.locator('#extend-btn .extend-count-short').innerText()).trim(), '3');
    // and every button of the header is wholly on the screen
    for (const button of await page.locator('#session-bar .btn').all()) {
      const box = await button.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${await button.innerText()} cut off: ${JSON.stringify(box)}`);
    }
    // nothing wider than the screen
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `horizontal overflow of ${overflow}px`);
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'phone', { fullPage: false });
    // orders with their delivery status, as stacked cards
    await page.getByRole('link', { name: 'Pedidos' }).click();
    await settled(page);
    await page.locator('table.orders .badge').first().waitFor();
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'phone-orders', { fullPage: false });
    // 25 minutes later: the 5-minute warning, announced (role=alert)
    await page.clock.fastForward('25:01');
    const warning = page.getByRole('alert').filter({ hasText: 'Quedan 5 minutos' });
    await warning.waitFor();
    assert.match(await page.locator('#countdown-value').innerText(), /^0[45]:\d\d$/);
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'phone-warning', { fullPage: false });
    await page.clock.fastForward('04:01');
    await page.getByRole('alert').filter({ hasText: 'Queda 1 minuto' }).waitFor();
    // the countdown reaches zero: the page asks demo-session, which (here, faked) says it is over
    await page.route(`**/api/demo/session/${session.session_id}`, (route) =>
      route.fulfill({
        status: 401,
        contentType: 'application/json',
        body: JSON.stringify({ error: 'session_expired', message: 'Tu sesión demo ha terminado. Puedes empezar una nueva cuando quieras.' }),
      }),
    );
    await page.clock.fastForward('01:05');
    await page.getByRole('heading', { name: 'Tu demo ha caducado' }).waitFor();
    assert.equal(await storedSession(page), null);
    assert.deepEqual(page.errors, []);
    await phone.context.close();
  });

  it('left no page errors and made no request outside the gateway', () => {
    for (const p of [a?.page, b?.page]) assert.deepEqual(p?.errors ?? [], []);
  });
});
