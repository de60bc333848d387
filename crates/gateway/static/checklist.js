// The guided checklist of a running demo, and the page's funnel milestones.
//
// - Screen views: the first time each screen renders in a session, the page reports it
//   (`POST /api/demo/session/{id}/events`, `screen_viewed` + the screen's key in VIEWS).
//   Deduplicated here (and remembered in sessionStorage across reloads), batched (at most
//   20 events a call, the API's limit), at most 10 calls a minute (the API allows 30), a
//   `429` waits for its Retry-After. Nothing here ever throws at the page: the funnel is
//   worth less than a working demo.
// - The checklist panel: `GET /api/demo/session/{id}/checklist`, whose ticks come only from
//   what the server recorded (the gateway saw the sale, the order, the adjustment, the
//   recipe costing), never from the page's word. Refreshed when the session starts, after
//   the prospect's writes and when the recipes are shown; the gateway reports those
//   milestones a moment after answering, so a refresh that expects an item asks again a
//   few times (bounded) until it is ticked.

import { ApiError, get, post } from './api.js';
import { el, icon } from './format.js';

const SENT_PREFIX = 'bakery-ia.demo-events.';
const COLLAPSED_KEY = 'bakery-ia.checklist-collapsed';
const MAX_EVENTS_PER_CALL = 20;
const MAX_CALLS_PER_MINUTE = 10;
const FLUSH_DELAY_MS = 600;
const MAX_FAILED_FLUSHES = 3;
/** Delays of the re-reads of a refresh that expects an item to be ticked. */
const EXPECT_RETRIES_MS = [400, 1200, 3000];

const state = {
  sessionId: null,
  sent: new Set(), // events (`milestone:detail`) already reported or queued in this session
  queue: [],
  calls: [], // when the last calls were made (for the per-minute cap)
  waitUntil: 0, // a 429's Retry-After
  failures: 0,
  flushTimer: null,
  refreshGeneration: 0,
  refreshTimer: null,
  checklist: null,
};

const $ = (id) => document.getElementById(id);
const keyOf = (e) => `${e.milestone}:${e.detail ?? ''}`;

function loadSent(id) {
  try {
    const list = JSON.parse(sessionStorage.getItem(SENT_PREFIX + id) || '[]');
    return new Set(Array.isArray(list) ? list.filter((x) => typeof x === 'string').slice(0, 50) : []);
  } catch {
    return new Set();
  }
}

function saveSent(keys) {
  if (!state.sessionId) return;
  try {
    const stored = loadSent(state.sessionId);
    for (const k of keys) stored.add(k);
    sessionStorage.setItem(SENT_PREFIX + state.sessionId, JSON.stringify([...stored]));
  } catch {
    // no storage: a reload reports the screens again, and the server keeps the first
  }
}

function forgetSent(id) {
  try {
    sessionStorage.removeItem(SENT_PREFIX + id);
  } catch {
    // nothing to forget
  }
}

// ---------------------------------------------------------------------------------------
// Page milestones

function queueEvent(event) {
  if (!state.sessionId) return;
  const key = keyOf(event);
  if (state.sent.has(key)) return;
  state.sent.add(key);
  state.queue.push(event);
  scheduleFlush(FLUSH_DELAY_MS);
}

function scheduleFlush(delay) {
  if (state.flushTimer) return;
  state.flushTimer = setTimeout(() => {
    state.flushTimer = null;
    flush();
  }, Math.max(0, delay));
}

async function flush() {
  const id = state.sessionId;
  if (!id || state.queue.length === 0) return;
  const now = Date.now();
  state.calls = state.calls.filter((t) => now - t < 60_000);
  if (now < state.waitUntil) {
    scheduleFlush(state.waitUntil - now);
    return;
  }
  if (state.calls.length >= MAX_CALLS_PER_MINUTE) {
    scheduleFlush(60_000 - (now - state.calls[0]) + 50);
    return;
  }
  const batch = state.queue.splice(0, MAX_EVENTS_PER_CALL);
  state.calls.push(now);
  try {
    await post(`/api/demo/session/${encodeURIComponent(id)}/events`, { events: batch }, { session: true });
    if (state.sessionId !== id) return;
    state.failures = 0;
    saveSent(batch.map(keyOf));
  } catch (error) {
    if (state.sessionId !== id) return;
    const status = error instanceof ApiError ? error.status : 0;
    if (status === 429) {
      const wait = Number(error.retryAfter);
      state.waitUntil = Date.now() + (Number.isFinite(wait) && wait > 0 ? wait : 60) * 1000;
      state.queue.unshift(...batch);
    } else if (status === 0 || status >= 500) {
      // unreachable for now: try again a little later, a few times
      state.failures += 1;
      if (state.failures < MAX_FAILED_FLUSHES) {
        state.queue.unshift(...batch);
        state.waitUntil = Date.now() + 5000 * state.failures;
      }
    }
    // 4xx (session over, not this session's, an event the server does not take): dropped
  }
  if (state.queue.length > 0) scheduleFlush(FLUSH_DELAY_MS);
}

/** The prospect saw `screen` (a key of VIEWS): reported once per session. */
export function screenViewed(screen) {
  queueEvent({ milestone: 'screen_viewed', detail: screen });
}

// ---------------------------------------------------------------------------------------
// The panel

function collapsed() {
  try {
    return sessionStorage.getItem(COLLAPSED_KEY) === '1';
  } catch {
    return false;
  }
}

function setCollapsed(value) {
  try {
    if (value) sessionStorage.setItem(COLLAPSED_KEY, '1');
    else sessionStorage.removeItem(COLLAPSED_KEY);
  } catch {
    // remembered until the next render only
  }
}

function progressText(done, total) {
  if (total > 0 && done >= total) return `Recorrido completado: ${total} de ${total} pasos`;
  return `${done} de ${total} ${total === 1 ? 'paso completado' : 'pasos completados'}`;
}

/** The end of the path: "Crear mi cuenta" opens the sign-up form (app.js, `#/crear-cuenta`). */
function signupBlock() {
  return el(
    'div',
    { class: 'checklist-finish' },
    el('p', null, el('strong', null, '¡Has probado lo esencial de Bakery-IA! '), 'El siguiente paso: crear tu cuenta y seguir con lo que has preparado.'),
    el('a', { class: 'btn btn-primary', id: 'signup-btn', href: '#/crear-cuenta' }, 'Crear mi cuenta'),
  );
}

/** The sign-up form was opened: reported once per session, sent at once. */
export function signupStarted() {
  if (!state.sessionId) return;
  queueEvent({ milestone: 'signup_started' });
  clearTimeout(state.flushTimer);
  state.flushTimer = null;
  flush();
}

function render() {
  const root = $('checklist');
  if (!root) return;
  const data = state.checklist;
  if (!state.sessionId || !data) {
    root.hidden = true;
    root.removeAttribute('aria-labelledby');
    root.replaceChildren();
    return;
  }
  const items = Array.isArray(data.items) ? data.items : [];
  const total = Number(data.total) || items.length;
  const done = Number(data.done) || items.filter((i) => i.done).length;
  const next = data.next_step || null;
  const isCollapsed = collapsed();
  const finished = next?.id === 'signup' || (total > 0 && done >= total);

  const list = el(
    'ol',
    { class: 'checklist-items', id: 'checklist-items', hidden: isCollapsed },
    items.map((item) =>
      el(
        'li',
        {
          class: ['checklist-item', item.done ? 'is-done' : null, !item.done && next?.id === item.id ? 'is-next' : null],
          'data-item': item.id,
          'data-done': item.done ? 'true' : 'false',
        },
        el(
          'a',
          { href: `#/${item.screen}`, class: 'checklist-link' },
          el('span', { class: 'checklist-mark' }, item.done ? icon('check') : null),
          el('span', { class: 'checklist-title' }, item.title),
          el('span', { class: 'sr-only' }, item.done ? ' (hecho)' : ' (pendiente)'),
        ),
      ),
    ),
  );

  const toggle = el(
    'button',
    {
      type: 'button',
      class: 'btn btn-ghost btn-small checklist-toggle',
      'aria-expanded': isCollapsed ? 'false' : 'true',
      'aria-controls': 'checklist-items',
      onclick: () => {
        setCollapsed(!collapsed());
        render();
      },
    },
    isCollapsed ? 'Mostrar' : 'Ocultar',
  );

  const progress = el('progress', {
    class: 'checklist-bar',
    max: String(total),
    value: String(done),
    'aria-label': `Progreso del recorrido: ${progressText(done, total)}`,
  });

  // (replaceChildren would write a null as text: only elements go in)
  const parts = [
    el(
      'div',
      { class: 'checklist-head' },
      el(
        'div',
        { class: 'checklist-heading' },
        el('h2', { id: 'checklist-title' }, 'Tu recorrido por la demo'),
        el('p', { class: 'checklist-progress', id: 'checklist-progress', role: 'status', 'aria-live': 'polite' }, progressText(done, total)),
      ),
      progress,
      toggle,
    ),
    list,
    !isCollapsed && finished ? signupBlock() : null,
    !isCollapsed && !finished && next
      ? el('p', { class: 'checklist-next muted small' }, 'Siguiente paso: ', el('a', { href: `#/${next.screen}` }, next.title))
      : null,
  ];
  root.replaceChildren(...parts.filter(Boolean));
  root.setAttribute('aria-labelledby', 'checklist-title');
  root.dataset.done = String(done);
  root.dataset.total = String(total);
  root.hidden = false;
}

/**
 * Reads the checklist again and redraws the panel. With `expect` (an item id), asks again a
 * few times until the server shows it ticked: the gateway records a write a moment after
 * answering it.
 */
export function refreshChecklist({ expect } = {}) {
  const generation = ++state.refreshGeneration;
  clearTimeout(state.refreshTimer);
  const attempt = async (n) => {
    const id = state.sessionId;
    if (!id || generation !== state.refreshGeneration) return;
    try {
      const data = await get(`/api/demo/session/${encodeURIComponent(id)}/checklist`);
      if (state.sessionId !== id || generation !== state.refreshGeneration) return;
      state.checklist = data && Array.isArray(data.items) ? data : null;
      render();
      const ticked = !expect || state.checklist?.items.some((i) => i.id === expect && i.done);
      if (ticked || n >= EXPECT_RETRIES_MS.length) return;
    } catch {
      // the panel keeps what it showed; a finished session is the router's business
      if (!expect || n >= EXPECT_RETRIES_MS.length) return;
    }
    state.refreshTimer = setTimeout(() => attempt(n + 1), EXPECT_RETRIES_MS[n]);
  };
  attempt(0);
}

/** A session started (or was found after a reload): its milestones and panel from now on. */
export function startChecklist(sessionId) {
  if (state.sessionId !== sessionId) {
    stopChecklist();
    state.sessionId = sessionId;
    state.sent = loadSent(sessionId);
  }
  refreshChecklist();
}

/** The session is over: nothing more is reported, the panel goes. */
export function stopChecklist() {
  if (state.sessionId) forgetSent(state.sessionId);
  clearTimeout(state.flushTimer);
  clearTimeout(state.refreshTimer);
  Object.assign(state, {
    sessionId: null,
    sent: new Set(),
    queue: [],
    calls: [],
    waitUntil: 0,
    failures: 0,
    flushTimer: null,
    refreshTimer: null,
    checklist: null,
  });
  state.refreshGeneration += 1;
  render();
}
