// Helpers of the end-to-end test: the browser (Debian's chromium, driven by playwright-core),
// direct calls to the gateway, and PostgreSQL checks through psql.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { chromium } from 'playwright-core';

export const BASE_URL = (process.env.E2E_BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const SCREENSHOTS = process.env.E2E_SCREENSHOTS || '';
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const PG = {
  host: process.env.E2E_PG_HOST || '127.0.0.1',
  port: process.env.E2E_PG_PORT || '55432',
  user: process.env.E2E_PG_USER || 'bakery',
};

/** Headless Chromium; playwright gives it a fresh, throw-away profile (user data dir). */
export async function launch() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return { browser, close: () => browser.close() };
}

/** A new isolated browser context (own storage) and a page in it. */
export async function openPage(browser, options = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: 'es-ES',
    timezoneId: 'Europe/Madrid',
    ...options,
  });
  const page = await context.newPage();
  page.errors = [];
  // every request must go to the gateway: no external fonts, scripts or CDNs
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(`${BASE_URL}/`) && !url.startsWith('data:')) page.errors.push(`external request: ${url}`);
  });
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) page.errors.push(m.text());
  });
  return { context, page };
}

export async function screenshot(page, name, options = {}) {
  if (!SCREENSHOTS) return;
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  // toasts fade by themselves; they would hide what the screenshot is about
  await page.evaluate(() => {
    window.scrollTo(0, 0);
    for (const t of document.querySelectorAll('.toast')) t.remove();
  });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), ...options });
}

const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * The serious and critical accessibility problems axe-core finds in the page as it is now
 * (WCAG 2.1 A and AA rules), one line each.
 */
export async function accessibilityProblems(page) {
  // evaluated, not added as a <script>: the page's Content-Security-Policy forbids inline scripts
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] }),
  );
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help}; ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

/** Waits until the current screen has finished loading. */
export async function settled(page) {
  await page.waitForFunction(() => document.getElementById('view')?.getAttribute('aria-busy') === 'false');
}

/** The session the page keeps in sessionStorage. */
export async function storedSession(page) {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem('bakery-ia.demo-session') || 'null'));
}

/** A call to the gateway from the test itself (not through the page). */
export async function api(method, urlPath, { sessionId, body, headers = {} } = {}) {
  const response = await fetch(`${BASE_URL}${urlPath}`, {
    method,
    headers: {
      Accept: 'application/json',
      ...(body ? { 'Content-Type': 'application/json' } : {}),
      ...(sessionId ? { 'X-Demo-Session-Id': sessionId } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: response.status, json };
}

function psql(database, sql) {
  return execFileSync(
    'psql',
    ['-h', PG.host, '-p', PG.port, '-U', PG.user, '-d', database, '-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-c', "SET app.all_tenants = 'on'", '-c', sql],
    { encoding: 'utf8' },
  ).trim();
}

/** The funnel milestones demo-session recorded for a session: `["screen_viewed:panel", …]`. */
export function milestonesOf(sessionId) {
  if (!/^demo_[A-Za-z0-9]+$/.test(sessionId)) throw new Error(`not a session id: ${sessionId}`);
  return psql('demo_session', `SELECT milestone || ':' || detail FROM demo_milestones WHERE session_id = '${sessionId}' ORDER BY 1`)
    .split('\n')
    .filter(Boolean);
}

/** The local stack's admin key (`ADMIN_API_KEY` of `.local/secrets.env`, or E2E_ADMIN_KEY). */
export function adminKey() {
  if (process.env.E2E_ADMIN_KEY) return process.env.E2E_ADMIN_KEY;
  const file = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '.local', 'secrets.env');
  const line = fs.readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith('ADMIN_API_KEY='));
  if (!line) throw new Error(`no ADMIN_API_KEY in ${file}`);
  return line.slice('ADMIN_API_KEY='.length).trim();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Rows of `tenantId` left in every tenant-owned table of the inventory database, plus its
 * row in `tenants`: `{ "inventory.sales": 0, …, "tenant.tenants": 0 }`.
 */
export function rowsOfTenant(tenantId) {
  if (!UUID.test(tenantId)) throw new Error(`not a tenant id: ${tenantId}`);
  const tables = psql(
    'inventory',
    "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY 1",
  )
    .split('\n')
    .filter(Boolean);
  if (tables.length === 0) throw new Error('no tenant-owned tables found in the inventory database');
  const counts = {};
  const union = tables.map((t) => `SELECT '${t}', count(*) FROM "${t}" WHERE tenant_id = '${tenantId}'`).join(' UNION ALL ');
  for (const line of psql('inventory', union).split('\n').filter(Boolean)) {
    const [table, n] = line.split('|');
    counts[`inventory.${table}`] = Number(n);
  }
  counts['tenant.tenants'] = Number(psql('tenant', `SELECT count(*) FROM tenants WHERE id = '${tenantId}'`));
  return counts;
}

/** Redis keys of one tenant (`{REDIS_KEY_PREFIX}tenant:{id}:…`, the contract's layout). */
export function redisKeysOfTenant(tenantId) {
  if (!UUID.test(tenantId)) throw new Error(`not a tenant id: ${tenantId}`);
  const prefix = process.env.REDIS_KEY_PREFIX || 'bakery:';
  const out = execFileSync(
    'redis-cli',
    ['-h', process.env.E2E_REDIS_HOST || '127.0.0.1', '-p', process.env.E2E_REDIS_PORT || '56379', '--scan', '--pattern', `${prefix}tenant:${tenantId}:*`],
    { encoding: 'utf8' },
  );
  return out.split('\n').filter(Boolean);
}

export const todayUtc = () => new Date().toISOString().slice(0, 10);
