// The operator view at /admin (crates/gateway/static/admin.js), in headless Chromium against
// the real local stack: the page is public, its data needs the admin key; a wrong key is
// refused with a Spanish message, the right one shows the charts with the numbers of
// `GET /api/demo/stats`; the date range is checked (at most 92 days) and sent.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { accessibilityProblems, adminKey, api, BASE_URL, launch, openPage, screenshot, settled } from './support.mjs';

describe('operator view', () => {
  let chromium;
  const created = [];
  let key;

  before(async () => {
    chromium = await launch();
    key = adminKey();
  });

  after(async () => {
    for (const id of created) await api('DELETE', `/api/demo/session/${id}`).catch(() => {});
    await chromium?.close();
  });

  const stats = async (query = '') => {
    const r = await api('GET', `/api/demo/stats${query}`, { headers: { 'X-Admin-Key': key } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json;
  };
  const created24h = (s) => s.created_per_hour.reduce((a, h) => a + h.sessions, 0);

  it('refuses a wrong key in Spanish, and with the right one draws the stats', async () => {
    const before = await stats();
    for (const account of ['individual_bakery', 'central_baker_satellite']) {
      const r = await api('POST', '/api/demo/session/create', { body: { demo_account_type: account } });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      created.push(r.json.session_id);
    }
    // a cleanup pass, so that the cleanup card has one to show
    assert.equal((await api('POST', '/api/demo/cleanup/run', { headers: { 'X-Admin-Key': key } })).status, 200);

    const { page } = await openPage(chromium.browser);
    const statsCalls = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/demo/stats') statsCalls.push({ url: r.url(), key: r.headers()['x-admin-key'] });
    });
    await page.goto(`${BASE_URL}/admin`);
    await page.getByRole('heading', { name: 'Operación de la demo', level: 1 }).waitFor();
    assert.equal(await page.locator('#tabs').isVisible(), false, 'no demo tabs here');
    assert.deepEqual(await accessibilityProblems(page), []);

    // a wrong key: refused, said in Spanish, forgotten
    await page.getByLabel('Clave de administración').fill('not-the-key');
    await page.getByRole('button', { name: 'Ver estadísticas' }).click();
    const error = page.getByRole('alert').filter({ hasText: 'La clave de administración no es correcta' });
    await error.waitFor();
    assert.doesNotMatch(await page.locator('body').innerText(), /admin_required|"error"/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('bakery-ia.admin-key')), null);
    assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
    await screenshot(page, 'admin-wrong-key', { clip: { x: 0, y: 0, width: 1280, height: 560 } });

    // the right key: the stats, as the API answers them
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/demo/stats' && r.status() === 200);
    await page.getByLabel('Clave de administración').fill(key);
    await page.getByRole('button', { name: 'Ver estadísticas' }).click();
    const shown = await (await answer).json();
    await page.locator('#admin-stats').waitFor();
    await settled(page);
    assert.equal(statsCalls.at(-1).key, key);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('bakery-ia.admin-key')), key);

    // sessions per hour: the 24 hours, and the total the stats give (with this test's two)
    assert.ok(created24h(shown) >= created24h(before) + 2, `${created24h(before)} → ${created24h(shown)}`);
    assert.equal(await page.locator('#chart-hourly g.bar').count(), 24);
    const digits = async (sel) => (await page.locator(sel).innerText()).replace(/\D/g, '');
    assert.equal(await digits('#created-24h'), String(created24h(shown)));
    const bars = await page.locator('#chart-hourly g.bar').evaluateAll((gs) => gs.reduce((a, g) => a + Number(g.dataset.sessions), 0));
    assert.equal(bars, created24h(shown));
    assert.equal(await digits('#kpi-total'), String(shown.total));
    assert.equal(await digits('#kpi-active'), String(shown.active));

    // the funnel: each account type's steps, with the counts of the stats
    for (const [type, data] of Object.entries(shown.funnel.by_account_type)) {
      for (const step of shown.funnel.steps) {
        const g = page.locator(`figure[data-account="${type}"] g.funnel-step[data-step="${step}"]`);
        assert.equal(await g.getAttribute('data-sessions'), String(data.sessions[step]), `${type} ${step}`);
      }
      assert.ok(data.sessions.created >= 1, `${type} has this test's session`);
    }
    assert.match(await page.locator('#admin-funnel-title-card').innerText(), /Demo creada/);

    // clone latency, the warm pool, cleanup
    for (const q of ['p50', 'p95', 'max']) {
      const v = await page.locator(`#chart-clone g[data-key="${q}"]`).getAttribute('data-value');
      assert.equal(Number(v), Number(shown.clone_ms[q]), q);
    }
    if (shown.warm_pool.target > 0) {
      for (const [type, n] of Object.entries(shown.warm_pool.ready)) {
        assert.equal(Number(await page.locator(`#chart-pool g[data-key="${type}"]`).getAttribute('data-value')), n);
      }
    } else {
      await page.locator('#pool-off').waitFor();
    }
    assert.ok(shown.cleanup.recent_passes.length >= 1);
    assert.equal(await page.locator('#cleanup-passes tbody tr').count(), shown.cleanup.recent_passes.length);
    assert.equal(await digits('#kpi-awaiting'), String(shown.cleanup.awaiting));
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'admin', { fullPage: true });

    // the range: more than 92 days is refused on the page, a valid one is sent
    const calls = statsCalls.length;
    await page.getByLabel('Desde').fill('2026-01-01');
    await page.getByLabel('Hasta').fill('2026-06-30');
    await page.getByRole('button', { name: 'Aplicar' }).click();
    await page.getByRole('alert').filter({ hasText: 'como mucho 92 días' }).waitFor();
    assert.equal(statsCalls.length, calls, 'nothing asked');
    await page.getByLabel('Desde').fill('2026-06-01');
    await page.getByRole('button', { name: 'Aplicar' }).click();
    await page.locator('#admin-status').filter({ hasText: 'Datos del 2026-06-01 al 2026-06-30' }).waitFor();
    const last = new URL(statsCalls.at(-1).url);
    assert.equal(last.searchParams.get('from'), '2026-06-01');
    assert.equal(last.searchParams.get('to'), '2026-06-30');
    assert.match(await page.locator('#admin-funnel-title-card').innerText(), /Ninguna sesión en este periodo|2026-06-01/);

    // a reload keeps the key (this tab only); "Olvidar la clave" forgets it
    await page.reload();
    await page.locator('#admin-stats').waitFor();
    await page.getByRole('button', { name: 'Olvidar la clave' }).click();
    await page.getByLabel('Clave de administración').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('bakery-ia.admin-key')), null);
    assert.deepEqual(page.errors.filter((e) => !/status of 401/.test(e)), []);
    await page.context().close();
  });

  it('fits a phone', async () => {
    const phone = await openPage(chromium.browser, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const { page } = phone;
    // the key as this tab would have kept it
    await page.addInitScript((k) => sessionStorage.setItem('bakery-ia.admin-key', k), key);
    await page.goto(`${BASE_URL}/admin`);
    await page.locator('#admin-stats').waitFor();
    await settled(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `horizontal overflow of ${overflow}px`);
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'admin-phone', { fullPage: true });
    assert.deepEqual(page.errors, []);
    await phone.context.close();
  });

  it('the page is public and static; only its data needs the key', async () => {
    const page = await fetch(`${BASE_URL}/admin`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/html/);
    const html = await page.text();
    assert.match(html, /Content-Security-Policy" content="default-src 'none'; script-src 'self'; style-src 'self'/);
    assert.equal((await api('GET', '/api/demo/stats')).status, 401);
    assert.equal((await api('GET', '/api/demo/stats', { headers: { 'X-Admin-Key': 'wrong' } })).json.error, 'admin_required');
    assert.equal((await api('GET', '/api/demo/stats?from=2026-01-01&to=2026-06-30', { headers: { 'X-Admin-Key': key } })).json.error, 'invalid_range');
  });
});
