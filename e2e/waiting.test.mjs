// The waiting room, end to end in headless Chromium: the demos are all taken (the test
// fills the stack's cap through the API), so "Probar demo" shows the prospect's place in
// line — "Hay mucha gente probando Bakery-IA ahora mismo: estás en la posición 1 (…)" —
// and, when one demo ends, the page carries on by itself into the new demo.
//
// Fills the cap of the stack under test: scripts/e2e.sh starts it with
// DEMO_MAX_ACTIVE_SESSIONS=100 (a stack with a larger cap is skipped: filling it would take
// too long). Runs last, and frees everything it took.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { accessibilityProblems, adminKey, api, BASE_URL, launch, openPage, screenshot, settled, storedSession } from './support.mjs';

const MAX_FILL = 150;

describe('waiting room', () => {
  let chromium;
  const taken = []; // sessions the test created to fill the cap

  before(async () => {
    chromium = await launch();
  });

  after(async () => {
    for (const id of taken) await api('DELETE', `/api/demo/session/${id}`, { sessionId: id }).catch(() => {});
    await chromium?.close();
  });

  const stats = async () => {
    const r = await api('GET', '/api/demo/stats', { headers: { 'X-Admin-Key': adminKey() } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json;
  };

  it('shows the place in line at the cap and carries on by itself when a demo ends', async (t) => {
    const before = await stats();
    const cap = before.capacity.max_active_sessions;
    const free = cap - before.active;
    if (free > MAX_FILL) {
      t.skip(`the stack's cap (${cap}) is too large to fill here`);
      return;
    }
    // take every free demo
    for (let i = 0; i < free; i++) {
      const r = await api('POST', '/api/demo/session/create', { body: { demo_account_type: 'central_baker_satellite' } });
      if (r.status === 201) taken.push(r.json.session_id);
      else assert.fail(`filling the cap: ${r.status} ${JSON.stringify(r.json)}`);
    }
    assert.equal((await stats()).active, cap);

    const { context, page } = await openPage(chromium.browser);
    try {
      await page.goto(`${BASE_URL}/`);
      await page.locator('article.account-individual_bakery').getByRole('button', { name: 'Probar demo' }).click();
      const text = page.locator('#waiting-text');
      await text.waitFor({ state: 'visible', timeout: 15_000 });
      assert.match(
        await text.textContent(),
        /^Hay mucha gente probando Bakery-IA ahora mismo: estás en la posición 1 \((unos \d+ (segundos|minutos)|un minuto)\)\.$/,
      );
      assert.equal((await stats()).capacity.queue_waiting, 1);
      // the page keeps its place: still there after a few polls
      await page.waitForTimeout(4_500);
      assert.match(await text.textContent(), /posición 1/);
      assert.deepEqual(await accessibilityProblems(page), []);
      await screenshot(page, 'waiting-room', { fullPage: true });

      // one prospect leaves: the page enters the demo without a click
      const leaving = taken.shift();
      const ended = await api('DELETE', `/api/demo/session/${leaving}`, { sessionId: leaving });
      assert.equal(ended.status, 200, JSON.stringify(ended.json));
      await page.locator('#demo-badge').waitFor({ state: 'visible', timeout: 15_000 });
      await settled(page);
      const session = await storedSession(page);
      assert.equal(session.demo_account_type, 'individual_bakery');
      taken.push(session.session_id);
      assert.equal(await page.locator('#waiting-room').count(), 0);
      // its demo is a real one: the bakery's products answer
      const products = await api('GET', '/api/products?limit=5', { sessionId: session.session_id });
      assert.equal(products.status, 200, JSON.stringify(products.json));
      assert.ok(products.json.items.length > 0);
      assert.deepEqual(page.errors, []);
    } finally {
      await context.close();
    }
  });
});
