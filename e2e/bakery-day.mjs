// The dashboard and the point of sale at another hour of the bakery's day, for
// docs/screenshots: `scripts/screenshots-at.sh HH:MM` runs this against a stack whose clock
// it moved (PostgreSQL and the services through libfaketime), and moves the browser's
// clock by the same offset here, so the page, the API and the template's day in progress
// all agree on the hour. Not a test (scripts/e2e.sh does not run it): it prints what the
// screens say, for the record.
//   E2E_CLOCK_OFFSET_MS  how far the stack's clock was moved (negative: earlier)
//   E2E_SHOT_LABEL       the screenshots' suffix: dashboard-<label>.png, pos-<label>.png

import assert from 'node:assert/strict';

import { api, BASE_URL, launch, openPage, screenshot, settled, storedSession } from './support.mjs';

const offset = Number(process.env.E2E_CLOCK_OFFSET_MS || '0');
const label = process.env.E2E_SHOT_LABEL || 'now';
assert.ok(Number.isFinite(offset), 'E2E_CLOCK_OFFSET_MS must be a number of milliseconds');

const chromium = await launch();
let session;
try {
  const { context, page } = await openPage(chromium.browser);
  // the clock flows from there as a real one would (timers included: the countdown runs)
  await context.clock.install({ time: Date.now() + offset });
  const madrid = new Intl.DateTimeFormat('es-ES', { timeZone: 'Europe/Madrid', dateStyle: 'full', timeStyle: 'short' });
  console.log(`the page's clock: ${madrid.format(await page.evaluate(() => Date.now()))}`);

  await page.goto(`${BASE_URL}/`);
  await page.locator('article.account-individual_bakery').getByRole('button', { name: 'Probar demo' }).click();
  await page.locator('#demo-badge').waitFor({ state: 'visible', timeout: 30_000 });
  session = await storedSession(page);
  await page.locator('.chart svg rect').first().waitFor();
  await settled(page);
  const today = await page.locator('.kpi').filter({ hasText: 'Ventas de hoy' }).innerText();
  console.log(`dashboard — ${today.replace(/\s+/g, ' ')}`);
  await screenshot(page, `dashboard-${label}`, { fullPage: true });

  await page.getByRole('link', { name: 'Punto de venta' }).click();
  await settled(page);
  await page.locator('#today-title').waitFor();
  const heading = await page.locator('#today-title').innerText();
  const newest = await page.locator('[data-sale-id]').first().innerText().catch(() => '(no tickets yet)');
  console.log(`point of sale — ${heading}; newest ticket: ${newest.replace(/\s+/g, ' ')}`);
  assert.deepEqual(page.errors, [], 'the page logged errors');
  await screenshot(page, `pos-${label}`, { fullPage: true });
} finally {
  if (session) await api('DELETE', `/api/demo/session/${session.session_id}`).catch(() => {});
  await chromium.close();
}
