// The bakery's clock: a prospect whose browser is in Tokyo still sees the bakery's day and
// times — a sale rung up now shows at Madrid's time at the point of sale, the dashboard's
// days are Madrid's and say so, whatever the browser's zone.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { api, BASE_URL, launch, openPage, settled, storedSession } from './support.mjs';

const PRODUCT = 'Barra de pan';

/** "HH:MM" of `instant` in `timeZone`, as the page writes it. */
const hhmm = (instant, timeZone) =>
  new Intl.DateTimeFormat('es-ES', { hour: '2-digit', minute: '2-digit', timeZone }).format(instant);

describe('bakery clock', () => {
  let chromium;
  let session;

  before(async () => {
    chromium = await launch();
  });

  after(async () => {
    if (session) await api('DELETE', `/api/demo/session/${session.session_id}`).catch(() => {});
    await chromium?.close();
  });

  it("shows a sale at the bakery's time, not the browser's", async () => {
    const { page } = await openPage(chromium.browser, { timezoneId: 'Asia/Tokyo' });
    assert.equal(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone), 'Asia/Tokyo');
    await page.goto(`${BASE_URL}/`);
    await page.locator('article.account-individual_bakery').getByRole('button', { name: 'Probar demo' }).click();
    await page.locator('#demo-badge').waitFor({ state: 'visible', timeout: 30_000 });
    await settled(page);
    session = await storedSession(page);
    const sessionId = session.session_id;

    // the dashboard's days are the bakery's, and it says so
    await page.locator('.chart figcaption').filter({ hasText: 'días en hora de Madrid' }).waitFor();

    // a sale rung up now, through the API (a bake first, so there is bread to sell)
    const products = (await api('GET', '/api/products?limit=200', { sessionId })).json.items;
    const bread = products.find((p) => p.name === PRODUCT);
    assert.ok(bread, 'the demo bakery sells bread');
    const baked = await api('POST', '/api/inventory/adjustments', {
      sessionId,
      body: { product_id: bread.id, quantity_delta: 5, reason: 'count_correction' },
    });
    assert.equal(baked.status, 201, JSON.stringify(baked.json));
    const before = new Date();
    const sold = await api('POST', '/api/pos/sales', {
      sessionId,
      body: { lines: [{ product_id: bread.id, quantity: 1 }], payment_method: 'bizum' },
    });
    assert.equal(sold.status, 201, JSON.stringify(sold.json));
    const soldAt = new Date(sold.json.sale.sold_at);
    assert.ok(Math.abs(soldAt - before) < 60_000, `sold_at ${sold.json.sale.sold_at}`);

    await page.getByRole('link', { name: 'Punto de venta' }).click();
    await page.getByRole('heading', { name: 'Punto de venta', level: 1 }).waitFor();
    await settled(page);
    // its own line (the template's tickets of today are listed too, newest first)
    const shown = (await page.locator(`.today-sales li[data-sale-id="${sold.json.sale.id}"] span`).first().innerText()).trim();
    assert.equal(shown, hhmm(soldAt, 'Europe/Madrid'), 'the time at the bakery');
    assert.notEqual(shown, hhmm(soldAt, 'Asia/Tokyo'), "not the browser's time");
    assert.deepEqual(page.errors, []);
  });
});
