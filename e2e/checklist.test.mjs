// The guided checklist on the demo page (crates/gateway/static/checklist.js), in headless
// Chromium against the real local stack: screens are reported once each
// (`POST /api/demo/session/{id}/events`, checked in demo-session's database), the ticks come
// from the server (`GET …/checklist`) after a sale at the point of sale, a recipe's costing,
// an order and an adjustment, progress is shown and announced, and the finished checklist
// offers the next step. Also on a phone-sized screen.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { accessibilityProblems, api, BASE_URL, launch, milestonesOf, openPage, screenshot, settled, storedSession } from './support.mjs';

const PRODUCT = 'Barra de pan';

describe('guided checklist', () => {
  let chromium;
  const created = [];

  before(async () => {
    chromium = await launch();
  });

  after(async () => {
    for (const id of created) await api('DELETE', `/api/demo/session/${id}`).catch(() => {});
    await chromium?.close();
  });

  /** The events the page posted, each call's list. */
  function recordEvents(page) {
    const calls = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && /\/api\/demo\/session\/[^/]+\/events$/.test(new URL(r.url()).pathname)) {
        calls.push(JSON.parse(r.postData() || '{}').events || []);
      }
    });
    return calls;
  }

  async function start(page, account) {
    await page.goto(`${BASE_URL}/`);
    await page.locator(`article.account-${account}`).getByRole('button', { name: 'Probar demo' }).click();
    await page.locator('#demo-badge').waitFor({ state: 'visible', timeout: 30_000 });
    await settled(page);
    const session = await storedSession(page);
    created.push(session.session_id);
    return session;
  }

  const serverChecklist = async (id) => {
    const r = await api('GET', `/api/demo/session/${id}/checklist`, { sessionId: id });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json;
  };

  /** Waits until the panel shows `item` ticked, then checks the server agrees. */
  async function ticked(page, id, item) {
    await page.locator(`#checklist [data-item="${item}"][data-done="true"]`).waitFor({ timeout: 15_000 });
    const list = await serverChecklist(id);
    assert.equal(list.items.find((i) => i.id === item)?.done, true, `the server ticked ${item}`);
    // the panel shows the server's progress, in words
    await page.waitForFunction((n) => document.getElementById('checklist')?.dataset.done === String(n), list.done);
    assert.match(await page.locator('#checklist-progress').innerText(), new RegExp(`${list.done} de ${list.total}`));
    return list;
  }

  it('ticks from the server after a sale, a recipe, an order and an adjustment; screens are reported once', async () => {
    const { page } = await openPage(chromium.browser);
    const calls = recordEvents(page);
    const session = await start(page, 'individual_bakery');
    const id = session.session_id;

    // a fresh session: nothing done, four steps, each a link to its screen
    const panel = page.locator('#checklist');
    await panel.getByRole('heading', { name: 'Tu recorrido por la demo' }).waitFor();
    assert.match(await page.locator('#checklist-progress').innerText(), /0 de 4 pasos completados/);
    assert.equal(await page.locator('#checklist-progress').getAttribute('aria-live'), 'polite');
    const initial = await serverChecklist(id);
    assert.equal(initial.done, 0);
    for (const item of initial.items) {
      const link = panel.locator(`[data-item="${item.id}"] a`);
      assert.equal(await link.getAttribute('href'), `#/${item.screen}`);
      assert.match(await link.innerText(), new RegExp(item.title));
    }
    assert.equal(await panel.locator('[data-done="true"]').count(), 0);
    assert.equal(await panel.locator('progress').getAttribute('value'), '0');
    assert.equal(await panel.getByRole('link', { name: 'Crear mi cuenta' }).count(), 0, 'no sign-up before the end');
    assert.deepEqual(await accessibilityProblems(page), []);

    // screens seen twice are reported once
    for (const name of ['Ingredientes', 'Panel', 'Ingredientes', 'Pedidos', 'Panel']) {
      await page.getByRole('navigation', { name: 'Secciones de la demo' }).getByRole('link', { name }).click();
      await settled(page);
    }
    const expectScreens = ['screen_viewed:ingredientes', 'screen_viewed:panel', 'screen_viewed:pedidos'];
    for (let i = 0; i < 50 && !expectScreens.every((m) => milestonesOf(id).includes(m)); i += 1) await page.waitForTimeout(200);
    assert.deepEqual(
      milestonesOf(id).filter((m) => m.startsWith('screen_viewed:')),
      expectScreens,
      'the server recorded each screen seen',
    );
    const posted = calls.flat().map((e) => `${e.milestone}:${e.detail ?? ''}`);
    assert.deepEqual([...posted].sort(), [...new Set(posted)].sort(), `each screen posted once: ${posted}`);
    for (const batch of calls) assert.ok(batch.length >= 1 && batch.length <= 20);

    // a sale at the point of sale (registering today's bake first if the shelf is empty)
    await page.getByRole('navigation', { name: 'Secciones de la demo' }).getByRole('link', { name: 'Punto de venta' }).click();
    await settled(page);
    const tile = page.locator('.tile').filter({ hasText: PRODUCT });
    if (Number(await tile.locator('.tile-stock').getAttribute('data-stock')) < 1) {
      await page.getByRole('button', { name: `Registrar hornada: ${PRODUCT}` }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel(/Cantidad/).fill('40');
      await dialog.getByRole('button', { name: 'Guardar ajuste' }).click();
      await page.locator('.toast-success').filter({ hasText: `${PRODUCT}: existencias` }).waitFor();
      await settled(page);
    }
    assert.equal((await serverChecklist(id)).items.find((i) => i.id === 'sale').done, false);
    await page.locator('.tile').filter({ hasText: PRODUCT }).click();
    await page.getByRole('button', { name: 'Cobrar' }).click();
    await page.locator('#pos-result .notice-ok').waitFor();
    await ticked(page, id, 'sale');

    // the recipe costing, through the checklist's own link
    await panel.locator('[data-item="recipe_costing"] a').click();
    await page.getByRole('heading', { name: 'Productos y recetas', level: 1 }).waitFor();
    await ticked(page, id, 'recipe_costing');

    // an order to a supplier
    await panel.locator('[data-item="order"] a').click();
    await settled(page);
    await page.getByRole('button', { name: 'Nuevo pedido' }).click();
    const order = page.getByRole('dialog');
    await order.getByLabel(/Cantidad/).fill('3');
    await order.getByRole('button', { name: 'Enviar pedido' }).click();
    await page.locator('.toast-success').filter({ hasText: /Pedido .+ enviado/ }).waitFor();
    await ticked(page, id, 'order');

    // an adjustment (unless the bake above was one already)
    if (!(await serverChecklist(id)).items.find((i) => i.id === 'adjustment').done) {
      await panel.locator('[data-item="adjustment"] a').click();
      await settled(page);
      await page.locator('table.ingredients tbody tr').first().getByRole('button', { name: /Ajustar/ }).click();
      const adjust = page.getByRole('dialog');
      await adjust.getByLabel(/Cantidad/).fill('1');
      await adjust.getByRole('button', { name: 'Guardar ajuste' }).click();
      await page.locator('.toast-success').filter({ hasText: 'existencias' }).waitFor();
    }
    const done = await ticked(page, id, 'adjustment');
    assert.equal(done.done, 4);
    assert.equal(done.next_step.id, 'signup');
    assert.match(await page.locator('#checklist-progress').innerText(), /Recorrido completado: 4 de 4/);
    assert.equal(await panel.locator('progress').getAttribute('value'), '4');

    // finished: the next step is the sign-up form
    const signup = panel.getByRole('link', { name: 'Crear mi cuenta' });
    await signup.waitFor();
    await page.getByRole('navigation', { name: 'Secciones de la demo' }).getByRole('link', { name: 'Panel' }).click();
    await settled(page);
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'checklist', { clip: { x: 0, y: 0, width: 1280, height: 620 } });
    await signup.click();
    await page.getByRole('heading', { name: 'Sigue con tu panadería, ya como cliente' }).waitFor();
    await page.getByLabel('Nombre de tu panadería').waitFor();
    for (let i = 0; i < 50 && !milestonesOf(id).includes('signup_started:'); i += 1) await page.waitForTimeout(200);
    assert.ok(milestonesOf(id).includes('signup_started:'), 'signup_started recorded');
    assert.deepEqual(await accessibilityProblems(page), []);

    // every page milestone was posted once, whatever the screens seen
    const all = calls.flat().map((e) => `${e.milestone}:${e.detail ?? ''}`);
    assert.equal(all.length, new Set(all).size, `posted once each: ${all}`);
    assert.ok(calls.length <= 10, `${calls.length} calls`);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  it('fits a phone, can be folded, and a failing events endpoint does not break the page', async () => {
    const phone = await openPage(chromium.browser, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const { page } = phone;
    // the funnel is down: the page carries on
    await page.route('**/api/demo/session/*/events', (route) =>
      route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'unavailable', message: 'x' }) }),
    );
    const session = await start(page, 'central_baker_satellite');
    const panel = page.locator('#checklist');
    await panel.getByRole('heading', { name: 'Tu recorrido por la demo' }).waitFor();
    assert.equal(await panel.locator('li.checklist-item').count(), 4);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `horizontal overflow of ${overflow}px`);
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'checklist-phone', { fullPage: false });
    // folded: the list hides, the progress stays
    const toggle = panel.getByRole('button', { name: 'Ocultar' });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    await toggle.click();
    const show = panel.getByRole('button', { name: 'Mostrar' });
    assert.equal(await show.getAttribute('aria-expanded'), 'false');
    assert.equal(await panel.locator('#checklist-items').isVisible(), false);
    assert.match(await page.locator('#checklist-progress').innerText(), /0 de 4/);
    await show.click();
    await panel.locator('#checklist-items').waitFor();
    // screens still work with the events endpoint failing, and nothing is shown about it
    await page.getByRole('link', { name: 'Pedidos' }).first().click();
    await settled(page);
    await page.locator('table.orders .badge').first().waitFor();
    assert.equal(await page.locator('.toast-error').count(), 0);
    assert.deepEqual(milestonesOf(session.session_id).filter((m) => m.startsWith('screen_viewed')), []);
    // (the browser logs the faked 503s themselves)
    assert.deepEqual(page.errors.filter((e) => !/status of 503/.test(e)), []);
    await phone.context.close();
  });
});
