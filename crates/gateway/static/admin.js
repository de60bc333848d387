// The operator view at `/admin` (docs/observability.md, "The operator view"): the same page,
// no demo session. The page itself is public; its data is `GET /api/demo/stats`, which needs
// the admin key. The key is asked for in a form, kept in sessionStorage only (closing the
// tab forgets it) and sent as `X-Admin-Key`; a `401` forgets it and says so.
//
// Charts are inline SVG drawn here, like the dashboard's: nothing external.

import { ApiError, get } from './api.js';
import { addDays, el, qty, svg } from './format.js';

const KEY_STORAGE = 'bakery-ia.admin-key';
const MAX_DAYS = 92;

const ACCOUNT_LABELS = {
  individual_bakery: 'Panadería San Pablo (obrador propio)',
  central_baker_satellite: 'Panadería La Espiga (obrador central)',
};
const SHORT_LABELS = { individual_bakery: 'San Pablo', central_baker_satellite: 'La Espiga' };
const STEP_LABELS = {
  created: 'Demo creada',
  screen_viewed: 'Ha visto pantallas',
  first_write: 'Ha hecho una operación',
  extended: 'Ha ampliado la demo',
  signup_started: 'Ha empezado el alta',
  converted: 'Se ha dado de alta',
};
const STATUS_LABELS = {
  pending: 'Preparándose',
  ready: 'Listas',
  expired: 'Caducadas',
  failed: 'Fallidas',
  destroyed: 'Borradas',
};

const percent = new Intl.NumberFormat('es-ES', { style: 'percent', maximumFractionDigits: 1 });
const madridDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Madrid', year: 'numeric', month: '2-digit', day: '2-digit' });
const madridHour = new Intl.DateTimeFormat('es-ES', { timeZone: 'Europe/Madrid', hour: '2-digit', hour12: false });
const madridTime = new Intl.DateTimeFormat('es-ES', { timeZone: 'Europe/Madrid', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit' });

const accountLabel = (type) => ACCOUNT_LABELS[type] ?? type;
// phones get narrower drawings, so their text stays readable once scaled to the screen
const narrow = () => window.matchMedia('(max-width: 640px)').matches;
const int = (v) => qty(Math.round(Number(v) || 0));
const ms = (v) => (v === null || v === undefined ? '—' : `${qty(Math.round(Number(v)))} ms`);

function storedKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) || '';
  } catch {
    return '';
  }
}

function storeKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    // no storage: the key lives in this page only
  }
}

const view = { root: null, key: '', from: '', to: '', message: null };

/** Days between two `YYYY-MM-DD`, both included. */
function daysIn(from, to) {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86400000) + 1;
}

// ---------------------------------------------------------------------------------------
// Forms

function keyForm() {
  const input = el('input', { id: 'admin-key', type: 'password', autocomplete: 'current-password', required: true, spellcheck: 'false' });
  const form = el(
    'form',
    {
      class: 'panel admin-login',
      'aria-labelledby': 'admin-login-title',
      onsubmit: (e) => {
        e.preventDefault();
        const key = input.value.trim();
        if (!key) {
          view.message = 'Escribe la clave de administración.';
          draw();
          return;
        }
        view.key = key;
        storeKey(key);
        view.message = null;
        load();
      },
    },
    el('h1', { id: 'admin-login-title' }, 'Operación de la demo'),
    el('p', { class: 'muted' }, 'Sesiones, embudo de conversión, clonado, limpieza y reserva precalentada. Los datos necesitan la clave de administración (ADMIN_API_KEY): se guarda solo en esta pestaña.'),
    view.message ? el('p', { class: 'form-error', role: 'alert', id: 'admin-error' }, view.message) : null,
    el('div', { class: 'field' }, el('label', { for: 'admin-key' }, 'Clave de administración'), input),
    el('button', { type: 'submit', class: 'btn btn-primary', id: 'admin-enter' }, 'Ver estadísticas'),
  );
  return { form, input };
}

function rangeForm() {
  const from = el('input', { id: 'admin-from', type: 'date', value: view.from, required: true });
  const to = el('input', { id: 'admin-to', type: 'date', value: view.to, required: true });
  return el(
    'form',
    {
      class: 'admin-range',
      'aria-label': 'Periodo del embudo',
      onsubmit: (e) => {
        e.preventDefault();
        if (!/^\d{4}-\d{2}-\d{2}$/.test(from.value) || !/^\d{4}-\d{2}-\d{2}$/.test(to.value)) {
          view.message = 'Elige las dos fechas del periodo.';
        } else if (from.value > to.value) {
          view.message = 'La fecha de inicio no puede ser posterior a la de fin.';
        } else if (daysIn(from.value, to.value) > MAX_DAYS) {
          view.message = `El periodo puede tener como mucho ${MAX_DAYS} días.`;
        } else {
          view.from = from.value;
          view.to = to.value;
          view.message = null;
          load();
          return;
        }
        const error = document.getElementById('admin-range-error');
        if (error) {
          error.textContent = view.message;
          error.hidden = false;
        }
      },
    },
    el('div', { class: 'field' }, el('label', { for: 'admin-from' }, 'Desde'), from),
    el('div', { class: 'field' }, el('label', { for: 'admin-to' }, 'Hasta'), to),
    el('button', { type: 'submit', class: 'btn btn-secondary', id: 'admin-apply' }, 'Aplicar'),
    el('p', { class: 'form-error', id: 'admin-range-error', role: 'alert', hidden: !view.message }, view.message || ''),
  );
}

// ---------------------------------------------------------------------------------------
// Charts

/** Sessions created in each of the last 24 hours (the stats' `created_per_hour`). */
function hourlyChart(rows) {
  const byHour = new Map();
  for (const r of rows || []) {
    const t = Date.parse(r.hour);
    if (Number.isFinite(t)) byHour.set(Math.floor(t / 3600000), Number(r.sessions) || 0);
  }
  const now = Math.floor(Date.now() / 3600000);
  const hours = [];
  for (let h = now - 23; h <= now; h += 1) hours.push({ h, n: byHour.get(h) || 0 });
  const total = (rows || []).reduce((a, r) => a + (Number(r.sessions) || 0), 0);
  const small = narrow();
  const width = small ? 360 : 720;
  const height = 220;
  const top = 24;
  const bottom = 30;
  const left = 10;
  const slot = (width - left * 2) / hours.length;
  const max = Math.max(1, ...hours.map((x) => x.n));
  const bars = hours.map((x, i) => {
    const barH = x.n > 0 ? Math.max(3, ((height - top - bottom) * x.n) / max) : 0;
    const bx = left + i * slot + slot * 0.15;
    const bw = slot * 0.7;
    const by = height - bottom - barH;
    const label = madridHour.format(new Date(x.h * 3600000));
    return svg(
      'g',
      { class: 'bar', 'data-hour': label, 'data-sessions': x.n },
      svg('rect', { x: bx, y: by, width: bw, height: barH, rx: 3 }),
      x.n > 0 ? svg('text', { x: bx + bw / 2, y: by - 6, class: 'bar-value', 'text-anchor': 'middle' }, String(x.n)) : null,
      i % (small ? 6 : 3) === 0 || i === hours.length - 1
        ? svg('text', { x: bx + bw / 2, y: height - bottom + 18, class: 'bar-sublabel', 'text-anchor': 'middle' }, `${label} h`)
        : null,
    );
  });
  const desc = hours.filter((x) => x.n > 0).map((x) => `${madridHour.format(new Date(x.h * 3600000))} h: ${x.n}`).join('; ') || 'ninguna sesión';
  return el(
    'figure',
    { class: 'chart admin-chart' },
    svg(
      'svg',
      { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': 'hourly-title hourly-desc', id: 'chart-hourly' },
      svg('title', { id: 'hourly-title' }, 'Sesiones creadas por hora, últimas 24 horas'),
      svg('desc', { id: 'hourly-desc' }, desc),
      svg('line', { x1: left, x2: width - left, y1: height - bottom, y2: height - bottom, class: 'axis' }),
      bars,
    ),
    el('figcaption', { class: 'muted' }, 'Total en las últimas 24 horas: ', el('strong', { id: 'created-24h' }, int(total)), '. Horas de Madrid.'),
  );
}

/** One horizontal bar per step: sessions that reached it, and the step-to-step conversion. */
function funnelChart(type, data, steps) {
  const sessions = data?.sessions || {};
  const conversion = data?.conversion || {};
  const created = Math.max(1, Number(sessions[steps[0]]) || 0);
  // desktop: label, bar, value on one row; phones: the label and value above the bar
  const small = narrow();
  const rowH = small ? 46 : 34;
  const labelW = small ? 0 : 210;
  const width = small ? 360 : 720;
  const barMax = small ? width : width - labelW - 150;
  const height = steps.length * rowH + 8;
  const id = `funnel-${type}`;
  const rows = steps.map((step, i) => {
    const n = Number(sessions[step]) || 0;
    const w = n > 0 ? Math.max(3, (barMax * n) / created) : 0;
    const y = 4 + i * rowH;
    const conv = i === 0 ? null : conversion[step];
    const convText = i === 0 ? '' : conv === null || conv === undefined ? ' · —' : ` · ${percent.format(conv)}`;
    const label = STEP_LABELS[step] ?? step;
    const value = `${int(n)}${convText}`;
    const barY = small ? y + 20 : y + 5;
    return svg(
      'g',
      { class: 'funnel-step', 'data-step': step, 'data-sessions': n },
      small
        ? [
            svg('text', { x: 0, y: y + 14, class: 'bar-label' }, label),
            svg('text', { x: width, y: y + 14, class: 'bar-value', 'text-anchor': 'end' }, value),
          ]
        : [
            svg('text', { x: labelW - 10, y: y + rowH / 2 + 5, class: 'bar-label', 'text-anchor': 'end' }, label),
            svg('text', { x: labelW + barMax + 10, y: y + rowH / 2 + 5, class: 'bar-value' }, value),
          ],
      svg('rect', { x: labelW, y: barY, width: barMax, height: small ? 18 : rowH - 10, rx: 5, class: 'track' }),
      svg('rect', { x: labelW, y: barY, width: w, height: small ? 18 : rowH - 10, rx: 5, class: 'fill' }),
    );
  });
  const desc = steps
    .map((step, i) => {
      const n = Number(sessions[step]) || 0;
      const conv = conversion[step];
      return `${STEP_LABELS[step] ?? step}: ${n}${i > 0 && conv !== null && conv !== undefined ? ` (${percent.format(conv)} del paso anterior)` : ''}`;
    })
    .join('; ');
  return el(
    'figure',
    { class: 'chart admin-chart', 'data-account': type },
    el('figcaption', { class: 'admin-chart-title' }, accountLabel(type)),
    svg(
      'svg',
      { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': `${id}-title ${id}-desc` },
      svg('title', { id: `${id}-title` }, `Embudo de ${accountLabel(type)}`),
      svg('desc', { id: `${id}-desc` }, desc),
      rows,
    ),
  );
}

/** Horizontal bars with a value each (clone latency, warm pool). */
function barList(id, title, items, { max, format }) {
  // drawn for a half-width card (a narrower drawing keeps its text readable); on phones the
  // label and value go above the bar
  const small = narrow();
  const rowH = small ? 46 : 34;
  const labelW = small ? 0 : 150;
  const width = small ? 300 : 440;
  const barMax = small ? width : width - labelW - 95;
  const barH = small ? 18 : rowH - 10;
  const top = Math.max(1, max ?? Math.max(...items.map((x) => Number(x.value) || 0)));
  const height = items.length * rowH + 8;
  return svg(
    'svg',
    { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': `${id}-title ${id}-desc`, id },
    svg('title', { id: `${id}-title` }, title),
    svg('desc', { id: `${id}-desc` }, items.map((x) => `${x.label}: ${format(x.value)}`).join('; ')),
    items.map((x, i) => {
      const v = Number(x.value) || 0;
      const y = 4 + i * rowH;
      const barY = small ? y + 20 : y + 5;
      return svg(
        'g',
        { class: ['bar-row', x.kind].filter(Boolean).join(' '), 'data-key': x.key, 'data-value': x.value ?? '' },
        small
          ? [
              svg('text', { x: 0, y: y + 14, class: 'bar-label' }, x.label),
              svg('text', { x: width, y: y + 14, class: 'bar-value', 'text-anchor': 'end' }, format(x.value)),
            ]
          : [
              svg('text', { x: labelW - 10, y: y + rowH / 2 + 5, class: 'bar-label', 'text-anchor': 'end' }, x.label),
              svg('text', { x: labelW + barMax + 10, y: y + rowH / 2 + 5, class: 'bar-value' }, format(x.value)),
            ],
        svg('rect', { x: labelW, y: barY, width: barMax, height: barH, rx: 5, class: 'track' }),
        svg('rect', { x: labelW, y: barY, width: v > 0 ? Math.max(3, (barMax * Math.min(v, top)) / top) : 0, height: barH, rx: 5, class: 'fill' }),
      );
    }),
  );
}

function kpi(label, value, note, id, kind) {
  return el(
    'div',
    { class: ['kpi', kind ? `kpi-${kind}` : null] },
    el('p', { class: 'kpi-label' }, label),
    el('p', { class: 'kpi-value', id }, value),
    note ? el('p', { class: 'kpi-note' }, note) : null,
  );
}

function card(id, title, ...children) {
  return el('section', { class: 'card', 'aria-labelledby': id, id: `${id}-card` }, el('h2', { id }, title), ...children);
}

// ---------------------------------------------------------------------------------------
// The page

function statsView(stats) {
  const funnel = stats.funnel || {};
  const steps = Array.isArray(funnel.steps) && funnel.steps.length ? funnel.steps : Object.keys(STEP_LABELS);
  const byType = funnel.by_account_type || {};
  const types = Object.keys(byType).sort();
  const byStatus = stats.by_status || {};
  const cleanup = stats.cleanup || {};
  const passes = Array.isArray(cleanup.recent_passes) ? cleanup.recent_passes : [];
  const pool = stats.warm_pool || null;
  const clone = stats.clone_ms || {};
  const failedInARow = Number(cleanup.consecutive_failed_passes) || 0;

  const statusNote = Object.entries(byStatus)
    .map(([s, n]) => `${STATUS_LABELS[s] ?? s}: ${int(n)}`)
    .join(' · ');

  const blocked = Array.isArray(funnel.blocked_actions) ? funnel.blocked_actions : [];

  const poolTypes = pool ? [...new Set([...Object.keys(ACCOUNT_LABELS), ...Object.keys(pool.ready || {})])] : [];

  return el(
    'div',
    { class: 'admin-stats', id: 'admin-stats' },
    el(
      'div',
      { class: 'kpis' },
      kpi('Sesiones registradas', int(stats.total), statusNote || 'ninguna', 'kpi-total', 'accent'),
      kpi('Activas ahora', int(stats.active), 'preparándose o listas, sin caducar', 'kpi-active'),
      kpi('Ampliaciones', int(stats.extensions?.total), `media ${qty(stats.extensions?.average_per_session ?? 0)} por sesión`, 'kpi-extensions'),
      kpi(
        'Duración de las demos',
        stats.session_minutes?.p50 === null || stats.session_minutes?.p50 === undefined ? '—' : `${qty(stats.session_minutes.p50)} min`,
        'mediana de las terminadas',
        'kpi-minutes',
      ),
    ),
    card('admin-hourly-title', 'Sesiones creadas por hora', hourlyChart(stats.created_per_hour)),
    card(
      'admin-funnel-title',
      'Embudo de conversión',
      el('p', { class: 'muted small' }, `Sesiones creadas del ${funnel.from ?? view.from} al ${funnel.to ?? view.to} (días de Madrid) que llegaron a cada paso; el porcentaje es la conversión desde el paso anterior.`),
      types.length ? types.map((t) => funnelChart(t, byType[t], steps)) : el('p', { class: 'empty' }, 'Ninguna sesión en este periodo.'),
      blocked.length
        ? el(
            'div',
            { class: 'table-wrap admin-blocked' },
            el(
              'table',
              { class: 'data' },
              el('caption', null, 'Acciones bloqueadas por la política de la demo (sesiones)'),
              el('thead', null, el('tr', null, el('th', { scope: 'col' }, 'Regla'), el('th', { scope: 'col' }, 'Cuenta'), el('th', { scope: 'col', class: 'num' }, 'Sesiones'))),
              el(
                'tbody',
                null,
                blocked.map((b) =>
                  el('tr', null, el('th', { scope: 'row', 'data-label': 'Regla' }, b.rule), el('td', { 'data-label': 'Cuenta' }, accountLabel(b.account_type)), el('td', { class: 'num', 'data-label': 'Sesiones' }, int(b.sessions))),
                ),
              ),
            ),
          )
        : null,
    ),
    el(
      'div',
      { class: 'grid-2' },
      card(
        'admin-clone-title',
        'Tiempo de clonado',
        el(
          'figure',
          { class: 'chart admin-chart' },
          barList(
            'chart-clone',
            'Tiempo de clonado de una panadería demo',
            [
              { key: 'p50', label: 'Mediana (p50)', value: clone.p50 },
              { key: 'p95', label: 'Percentil 95', value: clone.p95 },
              { key: 'max', label: 'Máximo', value: clone.max, kind: 'bar-max' },
            ],
            { format: ms },
          ),
          el('figcaption', { class: 'muted' }, 'Clonados de las sesiones registradas, en milisegundos.'),
        ),
      ),
      card(
        'admin-pool-title',
        'Reserva precalentada',
        pool && Number(pool.target) > 0
          ? el(
              'figure',
              { class: 'chart admin-chart' },
              barList(
                'chart-pool',
                'Copias listas para entregar, por tipo de cuenta',
                poolTypes.map((t) => ({ key: t, label: SHORT_LABELS[t] ?? t, value: Number(pool.ready?.[t]) || 0, kind: Number(pool.ready?.[t]) ? null : 'bar-empty' })),
                { max: Number(pool.target), format: (v) => `${int(v)} de ${int(pool.target)}` },
              ),
              el('figcaption', { class: 'muted' }, `Copias clonadas hoy esperando una demo; objetivo: ${int(pool.target)} por tipo de cuenta (DEMO_WARM_POOL_SIZE).`),
            )
          : el('p', { class: 'empty', id: 'pool-off' }, 'La reserva precalentada está desactivada (DEMO_WARM_POOL_SIZE=0): cada demo se clona al crearla.'),
      ),
    ),
    card(
      'admin-cleanup-title',
      'Salud de la limpieza',
      el(
        'div',
        { class: 'kpis' },
        kpi('Pendientes de borrar', int(cleanup.awaiting), 'caducadas o fallidas con datos', 'kpi-awaiting', Number(cleanup.awaiting) > 0 ? 'warn' : 'ok'),
        kpi('Con errores', int(cleanup.with_errors), 'sesiones cuya limpieza falló alguna vez', 'kpi-cleanup-errors', Number(cleanup.with_errors) > 0 ? 'warn' : 'ok'),
        kpi('Pasadas fallidas seguidas', int(failedInARow), 'en esta réplica', 'kpi-failed-passes', failedInARow > 0 ? 'warn' : 'ok'),
      ),
      passes.length
        ? el(
            'div',
            { class: 'table-wrap' },
            el(
              'table',
              { class: 'data', id: 'cleanup-passes' },
              el('caption', { class: 'sr-only' }, 'Últimas pasadas de limpieza de esta réplica'),
              el(
                'thead',
                null,
                el('tr', null, ['Terminó', 'Resultado', 'Duración', 'Eliminadas', 'Fallos'].map((h, i) => el('th', { scope: 'col', class: i >= 2 ? 'num' : null }, h))),
              ),
              el(
                'tbody',
                null,
                passes.map((p) =>
                  el(
                    'tr',
                    { 'data-outcome': p.outcome },
                    el('th', { scope: 'row', 'data-label': 'Terminó' }, madridTime.format(new Date(p.finished_at))),
                    el('td', { 'data-label': 'Resultado' }, el('span', { class: ['badge', p.outcome === 'ok' ? 'badge-ok' : 'badge-danger'] }, p.outcome === 'ok' ? 'Correcta' : 'Fallida')),
                    el('td', { class: 'num', 'data-label': 'Duración' }, ms(p.duration_ms)),
                    el('td', { class: 'num', 'data-label': 'Eliminadas' }, int(p.removed)),
                    el('td', { class: 'num', 'data-label': 'Fallos' }, int(p.failures)),
                  ),
                ),
              ),
            ),
          )
        : el('p', { class: 'empty' }, 'Esta réplica aún no ha hecho ninguna pasada de limpieza desde que arrancó.'),
      el('p', { class: 'muted small' }, 'Las pasadas son las de la réplica de demo-session que ha respondido; las alertas de Prometheus las vigilan todas.'),
    ),
  );
}

function draw(stats) {
  const root = view.root;
  if (!view.key) {
    const { form, input } = keyForm();
    root.replaceChildren(form);
    root.setAttribute('aria-busy', 'false');
    input.focus();
    return;
  }
  root.replaceChildren(
    el(
      'section',
      { class: 'screen admin', 'aria-labelledby': 'screen-title' },
      el(
        'header',
        { class: 'screen-head' },
        el('div', null, el('h1', { id: 'screen-title' }, 'Operación de la demo'), el('p', { class: 'muted' }, 'Lo que pasa con las demos: cuántas se crean, hasta dónde llegan, cuánto tarda el clonado y si la limpieza funciona.')),
        el(
          'button',
          {
            type: 'button',
            class: 'btn btn-ghost btn-small',
            id: 'admin-logout',
            onclick: () => {
              storeKey('');
              view.key = '';
              view.message = null;
              draw();
            },
          },
          'Olvidar la clave',
        ),
      ),
      el('div', { class: 'toolbar' }, rangeForm()),
      el('div', { class: 'admin-live', role: 'status', 'aria-live': 'polite', id: 'admin-status' }, stats ? `Datos del ${view.from} al ${view.to} cargados.` : 'Cargando…'),
      stats ? statsView(stats) : null,
    ),
  );
  root.setAttribute('aria-busy', stats ? 'false' : 'true');
}

async function load() {
  draw();
  try {
    const stats = await get(`/api/demo/stats?from=${encodeURIComponent(view.from)}&to=${encodeURIComponent(view.to)}`, {
      session: false,
      headers: { 'X-Admin-Key': view.key },
    });
    draw(stats);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      storeKey('');
      view.key = '';
      view.message = 'La clave de administración no es correcta. Compruébala e inténtalo de nuevo.';
      draw();
      return;
    }
    const text =
      error instanceof ApiError && error.code === 'invalid_range'
        ? `El periodo no es válido: usa fechas AAAA-MM-DD, la primera no posterior a la segunda, como mucho ${MAX_DAYS} días.`
        : error instanceof ApiError
          ? error.friendly
          : 'No hemos podido cargar las estadísticas.';
    const status = document.getElementById('admin-status');
    if (status) {
      status.replaceChildren(
        el('div', { class: 'notice notice-error', role: 'alert' }, el('p', null, text), el('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: () => load() }, 'Reintentar')),
      );
    }
    view.root.setAttribute('aria-busy', 'false');
  }
}

/** Shows the operator view in `root`. */
export function renderAdmin(root) {
  view.root = root;
  document.title = 'Operación de la demo · Bakery-IA';
  document.body.classList.add('admin-page');
  view.to = madridDay.format(new Date());
  view.from = addDays(view.to, -6);
  view.key = storedKey();
  if (view.key) load();
  else draw();
}
