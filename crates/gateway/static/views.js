// The screens of a running demo, on the virtual tenant's data, and of a customer's own
// account (`ctx.customer`: the same screens, plus what the demo policy refuses — new, edit
// and delete ingredients, production). Each `render(ctx)` loads what it shows through the
// gateway and returns the screen's element; errors propagate to the router, which shows
// them (or the end screen when the session is over).

import { del, get, getAll, post, put } from './api.js';
import {
  addDays,
  bakeryDay,
  bakeryTimeZone,
  dayLabel,
  daysFromToday,
  el,
  expiryLabel,
  icon,
  inSeason,
  money,
  num,
  pct,
  qty,
  qtyUnit,
  seasonLabel,
  setBakeryTimeZone,
  svg,
  timeOfDay,
  unit,
  weekdayLabel,
  when,
  zonePlace,
} from './format.js';
import { policyButton, refused, setDisabled, signupOffer, toast } from './ui.js';

const EXPIRING_DAYS = 3;
/** Tickets the point of sale lists (the newest of today; the day's count and takings come from the summary). */
const LATEST_TICKETS = 20;

// ---------------------------------------------------------------------------------------
// Building blocks

function screen(title, subtitle, ...children) {
  return el(
    'section',
    { class: 'screen', 'aria-labelledby': 'screen-title' },
    el('header', { class: 'screen-head' }, el('div', null, el('h1', { id: 'screen-title' }, title), subtitle ? el('p', { class: 'muted' }, subtitle) : null)),
    ...children,
  );
}

function card(title, ...children) {
  const id = `card-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return el('section', { class: 'card', 'aria-labelledby': id }, el('h2', { id }, title), ...children);
}

function badge(text, kind) {
  return el('span', { class: ['badge', `badge-${kind}`] }, text);
}

/** A table that becomes a list of cards on phones (`data-label` names each cell). */
function table(caption, columns, rows, { empty = 'No hay datos.', className } = {}) {
  if (rows.length === 0) return el('p', { class: 'empty' }, empty);
  return el(
    'div',
    { class: 'table-wrap' },
    el(
      'table',
      { class: ['data', className] },
      el('caption', { class: 'sr-only' }, caption),
      el('thead', null, el('tr', null, columns.map((c) => el('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
      el(
        'tbody',
        null,
        rows.map((row) =>
          el(
            'tr',
            row.attrs || null,
            columns.map((c, i) => {
              const cell = row.cells[i];
              return i === 0
                ? el('th', { scope: 'row', 'data-label': c.label }, cell)
                : el('td', { 'data-label': c.label, class: c.num ? 'num' : null }, cell);
            }),
          ),
        ),
      ),
    ),
  );
}

function toolbar(...children) {
  return el('div', { class: 'toolbar' }, ...children);
}

function searchBox(label, onInput) {
  const id = `search-${Math.random().toString(36).slice(2, 8)}`;
  return el(
    'div',
    { class: 'search' },
    el('label', { for: id, class: 'sr-only' }, label),
    el('input', { id, type: 'search', placeholder: label, autocomplete: 'off', oninput: (e) => onInput(e.target.value) }),
  );
}

function normal(text) {
  return String(text)
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '');
}

function filterRows(container, text) {
  const needle = normal(text.trim());
  for (const tr of container.querySelectorAll('tbody tr')) {
    tr.hidden = needle !== '' && !normal(tr.textContent).includes(needle);
  }
}

// The bakery's time zone, asked of tenant-service once per account shown (the router
// calls this before every screen): the screens' days and times are the bakery's
// (format.js). Without an answer, the default zone.
let clockOf = null;
export async function useBakeryClock(ctx) {
  const account = ctx.customer ? `customer:${ctx.customer.tenant_id ?? ''}` : `demo:${ctx.session?.session_id ?? ''}`;
  if (clockOf === account) return;
  try {
    const me = await get('/api/tenants/me');
    setBakeryTimeZone(me?.timezone);
    clockOf = account;
  } catch {
    setBakeryTimeZone(null);
  }
}

// ---------------------------------------------------------------------------------------
// Stock adjustment (an operation the demo policy allows)

const ADJUST_REASONS = [
  { value: 'count_correction', label: 'Recuento o entrada (sumar)', sign: 1 },
  { value: 'waste', label: 'Merma (restar)', sign: -1 },
  { value: 'expired', label: 'Caducado (restar)', sign: -1 },
];

/** A problem with what was typed in a dialog: shown in it, next to the field. */
class Invalid extends Error {
  constructor(message, field) {
    super(message);
    this.field = field;
  }
}

/**
 * A modal form: `fields` (elements), a Cancel and a `submitLabel` button. On submit it
 * awaits `submit()`; an `Invalid` or an API error is shown in the dialog, a finished session
 * goes to `ctx.showError`. Resolves to `submit()`'s answer, or null when cancelled.
 */
function formDialog(ctx, { id, title, fields, submitLabel, focus, submit }) {
  return new Promise((resolve) => {
    const error = el('p', { class: 'form-error', role: 'alert', hidden: true });
    const send = el('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel);
    let result = null;
    const onsubmit = async (e) => {
      if (e.submitter && e.submitter.value === 'cancel') return;
      e.preventDefault();
      send.disabled = true;
      try {
        result = await submit();
        dialog.close('ok');
      } catch (err) {
        if (err.sessionGone) {
          dialog.close('cancel');
          ctx.showError(err);
          return;
        }
        error.textContent = err.friendly || err.message || 'No se ha podido guardar.';
        // a refusal of the demo policy offers the way out of the demo
        const offer = err.code === 'demo_restriction' ? signupOffer() : null;
        if (offer) {
          error.append(
            ' ',
            el('button', { type: 'button', class: 'btn btn-primary btn-small', onclick: () => { dialog.close('cancel'); offer.onclick(); } }, offer.label),
          );
        }
        error.hidden = false;
        err.field?.focus();
      } finally {
        send.disabled = false;
      }
    };
    const dialog = el(
      'dialog',
      { class: 'dialog', 'aria-labelledby': `${id}-title` },
      el(
        'form',
        { method: 'dialog', onsubmit },
        el('h2', { id: `${id}-title` }, title),
        fields,
        error,
        el(
          'div',
          { class: 'dialog-actions' },
          el('button', { type: 'submit', value: 'cancel', class: 'btn btn-ghost', formnovalidate: true }, 'Cancelar'),
          send,
        ),
      ),
    );
    dialog.addEventListener('close', () => {
      resolve(result);
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    focus?.focus();
  });
}

function field(id, label, control) {
  return el('div', { class: 'field' }, el('label', { for: id }, label), control);
}

/** A positive number typed in `input`, or an `Invalid`. */
function positive(input, message) {
  const value = Number(input.value);
  if (!(value > 0)) throw new Invalid(message, input);
  return value;
}

/**
 * Opens the adjustment dialog for an ingredient or a product; resolves to the API's answer
 * (`on_hand_before`, `on_hand`…) or null when cancelled.
 */
function adjustDialog(ctx, item, { kind, reason = 'count_correction', quantity = '', note = '' }) {
  const amount = el('input', { id: 'adj-qty', type: 'number', min: '0.001', step: 'any', required: true, inputmode: 'decimal', value: quantity });
  const reasonSelect = el(
    'select',
    { id: 'adj-reason' },
    ADJUST_REASONS.map((r) => el('option', { value: r.value, selected: r.value === reason }, r.label)),
  );
  const noteInput = el('input', { id: 'adj-note', type: 'text', maxlength: '200', value: note });
  return formDialog(ctx, {
    id: 'adj',
    title: `Ajustar existencias: ${item.name}`,
    submitLabel: 'Guardar ajuste',
    focus: amount,
    fields: [
      el('p', { class: 'muted' }, `Existencias ahora: ${qtyUnit(item.on_hand, item.unit)}`),
      field('adj-reason', 'Motivo', reasonSelect),
      field('adj-qty', `Cantidad (${unit(item.unit)})`, amount),
      field('adj-note', 'Nota (opcional)', noteInput),
    ],
    submit: () => {
      const r = ADJUST_REASONS.find((x) => x.value === reasonSelect.value);
      const value = positive(amount, 'Indica una cantidad mayor que cero.');
      return post('/api/inventory/adjustments', {
        [kind === 'product' ? 'product_id' : 'ingredient_id']: item.id,
        quantity_delta: r.sign * value,
        reason: r.value,
        note: noteInput.value || undefined,
      });
    },
  });
}

function adjustButton(ctx, item, kind, label = 'Ajustar', options = {}) {
  const button = policyButton(ctx.policy, label, 'POST', '/api/inventory/adjustments', {
    class: 'btn btn-secondary btn-small',
    'aria-label': `${label}: ${item.name}`,
  });
  button.addEventListener('click', async () => {
    const outcome = await adjustDialog(ctx, item, { kind, ...options });
    if (outcome) {
      toast(
        `${item.name}: existencias ${qty(outcome.on_hand_before)} → ${qtyUnit(outcome.on_hand, item.unit)}`,
        'success',
      );
      ctx.progress('adjustment');
      ctx.refresh();
    }
  });
  return button;
}

// ---------------------------------------------------------------------------------------
// Dashboard

/** Bars of the last 7 days and today, drawn in SVG. */
function salesChart(days) {
  // a narrower drawing on phones, so its text stays readable once scaled to the screen
  const narrow = window.matchMedia('(max-width: 640px)').matches;
  const width = narrow ? 360 : 640;
  const height = narrow ? 220 : 240;
  const top = 28;
  const bottom = 44;
  const left = 8;
  const slot = (width - left * 2) / days.length;
  const max = Math.max(1, ...days.map((d) => d.total));
  const scale = (v) => ((height - top - bottom) * v) / max;
  const bars = days.map((d, i) => {
    const h = Math.max(d.total > 0 ? 2 : 0, scale(d.total));
    const x = left + i * slot + slot * 0.18;
    const w = slot * 0.64;
    const y = height - bottom - h;
    return svg(
      'g',
      { class: d.today ? 'bar bar-today' : 'bar' },
      svg('rect', { x, y, width: w, height: h, rx: 6 }),
      svg('text', { x: x + w / 2, y: y - 8, class: 'bar-value', 'text-anchor': 'middle' }, narrow ? String(Math.round(d.total)) : `${Math.round(d.total)} €`),
      svg('text', { x: x + w / 2, y: height - bottom + 18, class: 'bar-label', 'text-anchor': 'middle' }, d.today ? 'Hoy' : weekdayLabel(d.day)),
      svg('text', { x: x + w / 2, y: height - bottom + 34, class: 'bar-sublabel', 'text-anchor': 'middle' }, narrow ? String(Number(d.day.slice(8))) : dayLabel(d.day)),
    );
  });
  const desc = days.map((d) => `${d.today ? 'hoy' : dayLabel(d.day)}: ${money(d.total)}`).join('; ');
  return el(
    'figure',
    { class: 'chart' },
    svg(
      'svg',
      { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': 'chart-title chart-desc', preserveAspectRatio: 'xMidYMid meet' },
      svg('title', { id: 'chart-title' }, 'Ventas de los últimos 7 días y de hoy'),
      svg('desc', { id: 'chart-desc' }, desc),
      svg('line', { x1: left, x2: width - left, y1: height - bottom, y2: height - bottom, class: 'axis' }),
      bars,
    ),
    el('figcaption', { class: 'muted' }, `Importe vendido por día en euros (días en hora de ${zonePlace()}). La barra destacada es hoy: las ventas que registres en el punto de venta aparecen aquí.`),
  );
}

/** The busiest hour of `hours` (the summary's), as "8:00–9:00"; null without sales. */
function busiestHour(hours) {
  const top = hours.reduce((best, h) => (best === null || h.tickets > best.tickets ? h : best), null);
  return top === null ? null : `${top.hour}:00–${top.hour + 1}:00`;
}

const PAYMENT_NAMES = { card: 'tarjeta', cash: 'efectivo', bizum: 'Bizum', other: 'otros' };

/** Tickets per hour of the day: one bar per hour with sales, drawn in SVG (no inline styles). */
function hoursChart(hours) {
  const width = 320;
  const height = 96;
  const bottom = 16;
  const slot = width / hours.length;
  const most = Math.max(1, ...hours.map((h) => h.tickets));
  const bars = hours.map((h, i) => {
    const bar = Math.max(2, ((height - bottom - 4) * h.tickets) / most);
    const x = i * slot + slot * 0.12;
    return svg(
      'g',
      { class: 'hour' },
      svg('rect', { x, y: height - bottom - bar, width: slot * 0.76, height: bar, rx: 2 }),
      svg('text', { x: x + slot * 0.38, y: height - 3, class: 'hour-label', 'text-anchor': 'middle' }, String(h.hour)),
    );
  });
  const desc = hours.map((h) => `${h.hour}:00: ${h.tickets} tickets`).join('; ');
  return svg(
    'svg',
    { class: 'hours', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `Tickets por hora del día, en hora de ${zonePlace()}: ${desc}` },
    bars,
  );
}

/** The till's rhythm over the summary's days: average ticket, tickets a day, the hours. */
function rhythmCard(summary, ticketsPerDay) {
  const hours = summary.hours.filter((h) => h.tickets > 0);
  const payments = summary.payment_methods
    .map((p) => `${PAYMENT_NAMES[p.payment_method] ?? p.payment_method} ${pct(p.tickets / Math.max(1, summary.tickets))}`)
    .join(' · ');
  return card(
    'El ritmo del mostrador',
    el(
      'dl',
      { class: 'facts' },
      el('div', null, el('dt', null, 'Ticket medio'), el('dd', null, summary.average_ticket === null ? '—' : money(summary.average_ticket))),
      el('div', null, el('dt', null, 'Tickets al día'), el('dd', null, qty(Math.round(ticketsPerDay)))),
      el('div', null, el('dt', null, 'Hora punta'), el('dd', null, busiestHour(hours) ?? '—')),
      el('div', null, el('dt', null, 'Formas de pago'), el('dd', null, payments || '—')),
    ),
    hours.length === 0 ? null : hoursChart(hours),
    el('p', { class: 'muted small' }, `Últimos 7 días y hoy, en hora de ${zonePlace()}.`),
  );
}

async function renderDashboard(ctx) {
  const today = bakeryDay();
  const first = addDays(today, -7);
  const [ingredients, products, lots, summary] = await Promise.all([
    getAll('/api/inventory/ingredients'),
    getAll('/api/products'),
    getAll(`/api/inventory/stock-lots?expiring_within_days=${EXPIRING_DAYS}`),
    // one summary instead of every ticket: a bakery rings up hundreds a day
    get(`/api/sales/summary?from=${first}&to=${today}&tz=${encodeURIComponent(bakeryTimeZone())}`),
  ]);
  const names = new Map([...ingredients, ...products].map((i) => [i.id, i]));
  const days = summary.days.map((d) => ({ day: d.day, total: num(d.total), tickets: d.tickets, today: d.day === today }));
  const todays = days.find((d) => d.today) ?? { total: 0, tickets: 0 };
  const past = days.filter((d) => !d.today);
  const week = past.reduce((a, d) => a + d.total, 0);
  const weekTickets = past.reduce((a, d) => a + d.tickets, 0);
  const low = ingredients.filter((i) => i.low_stock);
  // out of season a sweet has none, and nobody misses it
  const lowProducts = products.filter((p) => inSeason(p, today) && num(p.on_hand) <= 0);

  const kpi = (label, value, note, kind) =>
    el('div', { class: ['kpi', kind ? `kpi-${kind}` : null] }, el('p', { class: 'kpi-label' }, label), el('p', { class: 'kpi-value' }, value), el('p', { class: 'kpi-note' }, note));

  return screen(
    `Hola, ${ctx.account?.name ?? ctx.session.bakery_name}`,
    ctx.customer
      ? 'Así va tu negocio hoy.'
      : 'Así va el negocio hoy. Todo lo que ves es una copia privada de esta panadería, solo para ti.',
    el(
      'div',
      { class: 'kpis' },
      kpi('Ventas de hoy', money(todays.total), todays.tickets === 1 ? '1 ticket' : `${todays.tickets} tickets`, 'accent'),
      kpi('Últimos 7 días', money(week), `media de ${money(week / 7)} y ${qty(Math.round(weekTickets / 7))} tickets al día`),
      kpi('Alertas de stock', String(low.length), low.length === 1 ? 'ingrediente bajo mínimos' : 'ingredientes bajo mínimos', low.length ? 'warn' : 'ok'),
      kpi('Lotes por caducar', String(lots.length), `en los próximos ${EXPIRING_DAYS} días`, lots.length ? 'warn' : 'ok'),
    ),
    card('Ventas: últimos 7 días y hoy', salesChart(days)),
    // tickets a day over the 7 whole days (today's are still coming in)
    rhythmCard(summary, weekTickets / 7),
    el(
      'div',
      { class: 'grid-2' },
      card(
        'Alertas de stock',
        low.length === 0
          ? el('p', { class: 'empty' }, 'Ningún ingrediente por debajo de su punto de pedido.')
          : el(
              'ul',
              { class: 'alert-list', 'aria-label': 'Ingredientes con stock bajo' },
              low.map((i) =>
                el(
                  'li',
                  null,
                  el('span', { class: 'alert-name' }, i.name),
                  el('span', { class: 'alert-detail' }, `${qtyUnit(i.on_hand, i.unit)} · mínimo ${qtyUnit(i.reorder_point, i.unit)}`),
                  badge('Stock bajo', 'warn'),
                ),
              ),
            ),
        lowProducts.length > 0
          ? el('p', { class: 'muted small' }, `Productos sin existencias en tienda: ${lowProducts.map((p) => p.name).join(', ')}.`)
          : null,
      ),
      card(
        'Lotes a punto de caducar',
        lots.length === 0
          ? el('p', { class: 'empty' }, `Ningún lote caduca en los próximos ${EXPIRING_DAYS} días.`)
          : el(
              'ul',
              { class: 'alert-list', 'aria-label': 'Lotes que caducan pronto' },
              lots.map((l) => {
                const item = names.get(l.ingredient_id || l.product_id);
                const n = l.expires_at ? daysFromToday(l.expires_at) : Infinity;
                return el(
                  'li',
                  null,
                  el('span', { class: 'alert-name' }, item?.name ?? 'Artículo'),
                  el('span', { class: 'alert-detail' }, `Lote ${l.lot_code} · ${qtyUnit(l.quantity, item?.unit)}`),
                  badge(expiryLabel(l.expires_at), n <= 0 ? 'danger' : 'warn'),
                );
              }),
            ),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------------------
// Ingredients

async function renderIngredients(ctx) {
  const ingredients = await getAll('/api/inventory/ingredients');
  const rows = ingredients.map((i) => ({
    attrs: { 'data-id': i.id, class: i.low_stock ? 'row-warn' : null },
    cells: [
      el('span', { class: 'item-name' }, i.name),
      i.category,
      el('span', { class: 'stock', 'data-stock': num(i.on_hand) }, qtyUnit(i.on_hand, i.unit)),
      qtyUnit(i.reorder_point, i.unit),
      `${money(i.unit_cost)}/${unit(i.unit)}`,
      (i.allergens || []).length ? i.allergens.join(', ') : '—',
      i.low_stock ? badge('Stock bajo', 'warn') : badge('Correcto', 'ok'),
      ctx.customer
        ? el('div', { class: 'row-actions' }, adjustButton(ctx, i, 'ingredient'), editIngredientButton(ctx, i), deleteIngredientButton(ctx, i))
        : adjustButton(ctx, i, 'ingredient'),
    ],
  }));
  const list = table(
    'Ingredientes con sus existencias',
    [
      { label: 'Ingrediente' },
      { label: 'Categoría' },
      { label: 'Existencias', num: true },
      { label: 'Punto de pedido', num: true },
      { label: 'Coste', num: true },
      { label: 'Alérgenos' },
      { label: 'Estado' },
      { label: 'Acciones' },
    ],
    rows,
    { empty: 'Esta panadería no tiene ingredientes.', className: 'ingredients' },
  );
  const low = ingredients.filter((i) => i.low_stock).length;
  return screen(
    'Ingredientes',
    `${ingredients.length} materias primas · ${low} con stock bajo. Existencias = suma de sus lotes.`,
    toolbar(
      searchBox('Buscar ingrediente', (text) => filterRows(list, text)),
      ctx.customer ? newIngredientButton(ctx) : policyButton(ctx.policy, 'Nuevo ingrediente', 'POST', '/api/inventory/ingredients'),
    ),
    list,
  );
}

const UNIT_CHOICES = [
  ['kg', 'kilogramos (kg)'],
  ['g', 'gramos (g)'],
  ['l', 'litros (l)'],
  ['ml', 'mililitros (ml)'],
  ['unidad', 'unidades'],
];

/** A non-negative number typed in `input`, or an `Invalid`. */
function nonNegative(input, message) {
  const value = input.value.trim() === '' ? 0 : Number(input.value);
  if (!(value >= 0)) throw new Invalid(message, input);
  return value;
}

/**
 * The ingredient form (a customer's): new (`POST`) or edit (`PUT`, which replaces every
 * field, so every field is sent). Resolves to the saved ingredient or null.
 */
async function ingredientDialog(ctx, item = null) {
  const suppliers = await getAll('/api/suppliers').catch(() => []);
  const name = el('input', { id: 'ing-name', type: 'text', required: true, maxlength: '200', value: item?.name ?? '' });
  const category = el('input', { id: 'ing-category', type: 'text', maxlength: '100', value: item?.category ?? '' });
  const unitSelect = el(
    'select',
    { id: 'ing-unit' },
    UNIT_CHOICES.map(([v, label]) => el('option', { value: v, selected: (item?.unit ?? 'kg') === v }, label)),
  );
  const cost = el('input', { id: 'ing-cost', type: 'number', min: '0', step: 'any', inputmode: 'decimal', required: true, value: item ? String(num(item.unit_cost)) : '' });
  const reorderPoint = el('input', { id: 'ing-reorder', type: 'number', min: '0', step: 'any', inputmode: 'decimal', value: item ? String(num(item.reorder_point)) : '0' });
  const reorderQty = el('input', { id: 'ing-reorder-qty', type: 'number', min: '0', step: 'any', inputmode: 'decimal', value: item ? String(num(item.reorder_quantity)) : '0' });
  const allergens = el('input', { id: 'ing-allergens', type: 'text', value: (item?.allergens || []).join(', ') });
  const supplier = el(
    'select',
    { id: 'ing-supplier' },
    el('option', { value: '' }, 'Sin proveedor'),
    suppliers.map((s) => el('option', { value: s.id, selected: item?.supplier_id === s.id }, s.name)),
  );
  return formDialog(ctx, {
    id: 'ing',
    title: item ? `Editar ingrediente: ${item.name}` : 'Nuevo ingrediente',
    submitLabel: item ? 'Guardar cambios' : 'Crear ingrediente',
    focus: name,
    fields: [
      field('ing-name', 'Nombre', name),
      field('ing-category', 'Categoría', category),
      field('ing-unit', 'Unidad', unitSelect),
      field('ing-cost', 'Coste por unidad (€)', cost),
      field('ing-reorder', 'Punto de pedido', reorderPoint),
      field('ing-reorder-qty', 'Cantidad a pedir', reorderQty),
      field('ing-allergens', 'Alérgenos (separados por comas)', allergens),
      field('ing-supplier', 'Proveedor', supplier),
    ],
    submit: () => {
      if (!name.value.trim()) throw new Invalid('Escribe el nombre del ingrediente.', name);
      if (cost.value.trim() === '') throw new Invalid('Indica el coste por unidad.', cost);
      const body = {
        name: name.value.trim(),
        unit: unitSelect.value,
        unit_cost: nonNegative(cost, 'El coste no puede ser negativo.'),
        category: category.value.trim() || undefined,
        reorder_point: nonNegative(reorderPoint, 'El punto de pedido no puede ser negativo.'),
        reorder_quantity: nonNegative(reorderQty, 'La cantidad a pedir no puede ser negativa.'),
        allergens: allergens.value
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean),
        supplier_id: supplier.value || null,
      };
      return item ? put(`/api/inventory/ingredients/${encodeURIComponent(item.id)}`, body) : post('/api/inventory/ingredients', body);
    },
  });
}

function newIngredientButton(ctx) {
  const button = el('button', { type: 'button', class: 'btn btn-primary', id: 'new-ingredient' }, 'Nuevo ingrediente');
  button.addEventListener('click', async () => {
    const saved = await ingredientDialog(ctx);
    if (saved) {
      toast(`Ingrediente creado: ${saved.name}.`, 'success');
      ctx.refresh();
    }
  });
  return button;
}

function editIngredientButton(ctx, item) {
  const button = el('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Editar: ${item.name}`, 'data-action': 'edit' }, 'Editar');
  button.addEventListener('click', async () => {
    const saved = await ingredientDialog(ctx, item);
    if (saved) {
      toast(`Cambios guardados: ${saved.name}.`, 'success');
      ctx.refresh();
    }
  });
  return button;
}

function deleteIngredientButton(ctx, item) {
  const button = el('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-label': `Eliminar: ${item.name}`, 'data-action': 'delete' }, 'Eliminar');
  button.addEventListener('click', async () => {
    const done = await formDialog(ctx, {
      id: 'ing-del',
      title: `¿Eliminar ${item.name}?`,
      submitLabel: 'Eliminar',
      fields: [el('p', null, 'Se borrarán también sus lotes y movimientos. No se puede eliminar mientras una receta o un pedido lo use.')],
      submit: async () => {
        await del(`/api/inventory/ingredients/${encodeURIComponent(item.id)}`);
        return true;
      },
    });
    if (done) {
      toast(`Ingrediente eliminado: ${item.name}.`, 'success');
      ctx.refresh();
    }
  });
  return button;
}

// ---------------------------------------------------------------------------------------
// Products and recipes

const KIND_LABELS = { finished: 'Elaborado', par_baked: 'Precocido', resale: 'Reventa', frozen: 'Ultracongelado' };

async function renderProducts(ctx) {
  const [products, recipes] = await Promise.all([getAll('/api/products'), getAll('/api/recipes')]);
  const recipeOf = new Map(recipes.map((r) => [r.product_id, r]));
  const cards = products.map((p) => {
    const recipe = recipeOf.get(p.id);
    const cost = recipe ? num(recipe.cost_per_unit) : p.purchase_cost === null || p.purchase_cost === undefined ? null : num(p.purchase_cost);
    const price = num(p.sale_price);
    const margin = cost !== null && price > 0 ? (price - cost) / price : null;
    return el(
      'article',
      { class: 'product', 'data-id': p.id, 'aria-labelledby': `p-${p.id}` },
      el(
        'header',
        { class: 'product-head' },
        el('h2', { id: `p-${p.id}` }, p.name),
        el('span', { class: 'muted small' }, `${KIND_LABELS[p.kind] ?? p.kind} · ${p.category}`),
        p.season
          ? el(
              'span',
              { class: ['badge', inSeason(p) ? 'badge-ok' : 'badge-muted'], 'data-season': `${p.season.from}/${p.season.to}` },
              `${inSeason(p) ? 'De temporada' : 'Fuera de temporada'}: ${seasonLabel(p.season)}`,
            )
          : null,
      ),
      el(
        'dl',
        { class: 'facts' },
        el('div', null, el('dt', null, 'Precio'), el('dd', null, money(price))),
        el('div', null, el('dt', null, recipe ? 'Coste receta' : 'Coste compra'), el('dd', null, cost === null ? '—' : money(cost))),
        el('div', null, el('dt', null, 'Margen'), el('dd', { class: margin !== null && margin < 0.5 ? 'text-warn' : 'text-ok' }, margin === null ? '—' : pct(margin))),
        el('div', null, el('dt', null, 'En tienda'), el('dd', { class: 'stock', 'data-stock': num(p.on_hand) }, qtyUnit(p.on_hand, p.unit))),
      ),
      recipe
        ? el(
            'details',
            { class: 'recipe' },
            el('summary', null, `Receta: ${qty(recipe.yield_quantity)} ${unit(p.unit)} por tanda · ${recipe.prep_minutes} min`),
            el('p', { class: 'small' }, recipe.instructions),
            el(
              'table',
              { class: 'lines' },
              el('caption', { class: 'sr-only' }, `Ingredientes de ${p.name}`),
              el('thead', null, el('tr', null, el('th', { scope: 'col' }, 'Ingrediente'), el('th', { scope: 'col', class: 'num' }, 'Cantidad'), el('th', { scope: 'col', class: 'num' }, 'Coste'))),
              el(
                'tbody',
                null,
                (recipe.lines || []).map((l) =>
                  el('tr', null, el('th', { scope: 'row' }, l.ingredient_name), el('td', { class: 'num' }, qtyUnit(l.quantity, l.unit)), el('td', { class: 'num' }, money(l.line_cost))),
                ),
              ),
              el(
                'tfoot',
                null,
                el('tr', null, el('th', { scope: 'row' }, 'Coste de la tanda'), el('td'), el('td', { class: 'num' }, money(recipe.batch_cost))),
              ),
            ),
          )
        : el('p', { class: 'muted small' }, p.purchase_cost !== null && p.purchase_cost !== undefined ? 'Producto comprado: sin receta propia.' : 'Sin receta registrada.'),
      el(
        'div',
        { class: 'product-actions' },
        adjustButton(ctx, p, 'product', 'Ajustar existencias'),
        recipe ? editRecipeButton(ctx, recipe) : null,
      ),
    );
  });
  return screen(
    'Productos y recetas',
    `${products.length} productos · ${recipes.length} recetas escandalladas con su coste real.`,
    ctx.customer
      ? toolbar(productionButton(ctx, recipes))
      : toolbar(
          policyButton(ctx.policy, 'Planificar producción', 'POST', '/api/production/batches'),
          policyButton(ctx.policy, 'Nuevo producto', 'POST', '/api/products'),
        ),
    products.length ? el('div', { class: 'products' }, cards) : el('p', { class: 'empty' }, 'Sin productos.'),
  );
}

/**
 * "Editar receta": the yield, the preparation time and the quantity of each ingredient
 * (`PUT /api/recipes/{id}`, which takes the whole recipe). A demo's policy refuses it, so
 * there the button explains why and offers "Crear mi cuenta".
 */
function editRecipeButton(ctx, recipe) {
  const button = policyButton(ctx.policy, 'Editar receta', 'PUT', `/api/recipes/${encodeURIComponent(recipe.id)}`, {
    class: 'btn btn-secondary btn-small',
    'aria-label': `Editar receta: ${recipe.product_name}`,
  });
  button.addEventListener('click', async () => {
    const saved = await recipeDialog(ctx, recipe);
    if (saved) {
      toast(`Receta guardada: ${saved.product_name}, ${money(saved.cost_per_unit)} por unidad.`, 'success');
      ctx.refresh();
    }
  });
  return button;
}

/** The recipe form: one quantity per line (empty or 0 removes it), resolves to the saved recipe. */
function recipeDialog(ctx, recipe) {
  const yieldInput = el('input', { id: 'rec-yield', type: 'number', min: '0.001', step: 'any', inputmode: 'decimal', required: true, value: String(num(recipe.yield_quantity)) });
  const prep = el('input', { id: 'rec-prep', type: 'number', min: '0', max: '2880', step: '1', inputmode: 'numeric', value: String(recipe.prep_minutes) });
  const lines = (recipe.lines || []).map((l, i) => ({
    line: l,
    input: el('input', { id: `rec-line-${i}`, type: 'number', min: '0', step: 'any', inputmode: 'decimal', value: String(num(l.quantity)) }),
  }));
  return formDialog(ctx, {
    id: 'rec',
    title: `Editar receta: ${recipe.product_name}`,
    submitLabel: 'Guardar receta',
    focus: lines[0]?.input ?? yieldInput,
    fields: [
      el('p', { class: 'muted' }, 'Cantidades por tanda. Deja una cantidad a 0 para quitar ese ingrediente de la receta.'),
      el(
        'div',
        { class: 'field-row' },
        field('rec-yield', 'Unidades por tanda', yieldInput),
        field('rec-prep', 'Preparación (min)', prep),
      ),
      el(
        'fieldset',
        { class: 'recipe-lines' },
        el('legend', null, 'Ingredientes'),
        lines.map(({ line, input }) => field(input.id, `${line.ingredient_name} (${unit(line.unit)})`, input)),
      ),
    ],
    submit: () => {
      const body = {
        yield_quantity: positive(yieldInput, 'Indica cuántas unidades salen de una tanda.'),
        lines: [],
      };
      const minutes = Number(prep.value);
      if (!Number.isInteger(minutes) || minutes < 0 || minutes > 2880) throw new Invalid('La preparación va de 0 a 2880 minutos.', prep);
      body.prep_minutes = minutes;
      for (const { line, input } of lines) {
        const value = Number(input.value || 0);
        if (!(value >= 0)) throw new Invalid('Las cantidades no pueden ser negativas.', input);
        if (value > 0) body.lines.push({ ingredient_id: line.ingredient_id, quantity: value });
      }
      if (body.lines.length === 0) throw new Invalid('Una receta necesita al menos un ingrediente.', lines[0]?.input ?? yieldInput);
      return put(`/api/recipes/${encodeURIComponent(recipe.id)}`, body);
    },
  });
}

/** A customer's production run: a recipe and how many units (`POST /api/production/batches`). */
function productionButton(ctx, recipes) {
  const button = el('button', { type: 'button', class: 'btn btn-primary', id: 'new-batch' }, 'Registrar producción');
  if (recipes.length === 0) setDisabled(button, 'Para producir hace falta al menos una receta.');
  button.addEventListener('click', async () => {
    if (refused(button)) return;
    const recipe = el('select', { id: 'batch-recipe' }, recipes.map((r) => el('option', { value: r.id }, `${r.product_name} · ${r.name}`)));
    const quantity = el('input', { id: 'batch-qty', type: 'number', min: '1', step: 'any', inputmode: 'decimal', required: true, value: String(num(recipes[0]?.yield_quantity) || 10) });
    const made = await formDialog(ctx, {
      id: 'batch',
      title: 'Registrar producción',
      submitLabel: 'Producir',
      focus: quantity,
      fields: [
        el('p', { class: 'muted' }, 'Descuenta los ingredientes de la receta (primero los lotes que caducan antes) y añade lo producido a la tienda.'),
        field('batch-recipe', 'Receta', recipe),
        field('batch-qty', 'Unidades', quantity),
      ],
      submit: () => post('/api/production/batches', { recipe_id: recipe.value, quantity: positive(quantity, 'Indica cuántas unidades.') }),
    });
    if (made) {
      toast(`Producción registrada: ahora hay ${qty(made.product_on_hand)} en tienda.`, 'success');
      ctx.refresh();
    }
  });
  return button;
}

// ---------------------------------------------------------------------------------------
// Orders

const DELIVERY = {
  pending: ['Pendiente', 'info'],
  in_transit: ['En camino', 'accent'],
  delivered: ['Entregado', 'ok'],
  late: ['Retrasado', 'danger'],
};
const ORDER_STATUS = { draft: 'Borrador', pending: 'Pedido', in_transit: 'En reparto', delivered: 'Recibido', cancelled: 'Cancelado' };

/**
 * The new-order dialog (an operation the demo policy allows): one supplier, one line, with
 * the supplier's ingredients and products to choose from. Resolves to the created order
 * or null.
 */
async function orderDialog(ctx) {
  const [suppliers, ingredients, products] = await Promise.all([
    getAll('/api/suppliers'),
    getAll('/api/inventory/ingredients'),
    getAll('/api/products'),
  ]);
  if (suppliers.length === 0) {
    toast('Esta panadería no tiene proveedores.', 'info');
    return null;
  }
  const items = [
    ...ingredients.map((i) => ({ key: `i:${i.id}`, kind: 'ingredient_id', ...i, suggest: i.low_stock ? i.reorder_quantity : '' })),
    ...products.filter((p) => p.supplier_id).map((p) => ({ key: `p:${p.id}`, kind: 'product_id', ...p, suggest: '' })),
  ];
  // the supplier with the most urgent needs first
  const urgency = (s) => items.filter((i) => i.supplier_id === s.id && i.low_stock).length;
  suppliers.sort((x, y) => urgency(y) - urgency(x) || x.name.localeCompare(y.name, 'es'));

  const supplier = el('select', { id: 'ord-supplier' }, suppliers.map((s) => el('option', { value: s.id }, s.name)));
  const item = el('select', { id: 'ord-item' });
  const amount = el('input', { id: 'ord-qty', type: 'number', min: '0.001', step: 'any', required: true, inputmode: 'decimal' });
  const amountLabel = el('label', { for: 'ord-qty' }, 'Cantidad');
  const note = el('input', { id: 'ord-note', type: 'text', maxlength: '200' });
  const fillAmount = () => {
    const chosen = items.find((i) => i.key === item.value);
    amountLabel.textContent = `Cantidad (${unit(chosen?.unit)})`;
    amount.value = chosen?.suggest ? String(chosen.suggest) : '';
  };
  const fillItems = () => {
    const own = items.filter((i) => i.supplier_id === supplier.value);
    item.replaceChildren(...(own.length ? own : items).map((i) => el('option', { value: i.key }, `${i.name}${i.low_stock ? ' · stock bajo' : ''}`)));
    fillAmount();
  };
  supplier.addEventListener('change', fillItems);
  item.addEventListener('change', fillAmount);
  fillItems();
  return formDialog(ctx, {
    id: 'ord',
    title: 'Nuevo pedido a proveedor',
    submitLabel: 'Enviar pedido',
    focus: supplier,
    fields: [
      field('ord-supplier', 'Proveedor', supplier),
      field('ord-item', 'Artículo', item),
      el('div', { class: 'field' }, amountLabel, amount),
      field('ord-note', 'Nota para el proveedor (opcional)', note),
    ],
    submit: () => {
      const chosen = items.find((i) => i.key === item.value);
      if (!chosen) throw new Invalid('Elige un artículo.', item);
      const quantity = positive(amount, 'Indica una cantidad mayor que cero.');
      return post('/api/orders', {
        supplier_id: supplier.value,
        notes: note.value || undefined,
        lines: [{ [chosen.kind]: chosen.id, quantity }],
      });
    },
  });
}

async function renderOrders(ctx) {
  const orders = await getAll('/api/orders');
  const counts = {};
  for (const o of orders) counts[o.delivery_status] = (counts[o.delivery_status] || 0) + 1;
  const rows = orders.map((o) => {
    const [label, kind] = o.status === 'cancelled' ? ['Cancelado', 'muted'] : DELIVERY[o.delivery_status] ?? [o.delivery_status, 'info'];
    return {
      attrs: { 'data-reference': o.reference },
      cells: [
        o.reference,
        o.supplier_name,
        when(o.ordered_at),
        o.delivered_at ? `Entregado ${when(o.delivered_at)}` : dayLabel(o.expected_at),
        `${(o.lines || []).length}`,
        money(o.total),
        el('span', null, badge(label, kind), o.status === 'draft' ? el('span', { class: 'muted small' }, ` ${ORDER_STATUS.draft}`) : null),
      ],
    };
  });
  const summary = Object.entries(DELIVERY)
    .filter(([k]) => counts[k])
    .map(([k, [label, kind]]) => el('li', null, badge(`${label}: ${counts[k]}`, kind)));
  const create = policyButton(ctx.policy, 'Nuevo pedido', 'POST', '/api/orders', { class: 'btn btn-primary' });
  create.addEventListener('click', async () => {
    try {
      const order = await orderDialog(ctx);
      if (order) {
        toast(`Pedido ${order.reference} enviado a ${order.supplier_name}: entrega prevista el ${dayLabel(order.expected_at)}.`, 'success');
        ctx.progress('order');
        ctx.refresh();
      }
    } catch (err) {
      ctx.showError(err);
    }
  });
  return screen(
    'Pedidos a proveedores',
    'Pedidos con su estado de entrega: pendientes, en camino, entregados y retrasados.',
    toolbar(el('ul', { class: 'summary', 'aria-label': 'Resumen de entregas' }, summary), create),
    table(
      'Pedidos a proveedores',
      [
        { label: 'Referencia' },
        { label: 'Proveedor' },
        { label: 'Pedido' },
        { label: 'Entrega' },
        { label: 'Líneas', num: true },
        { label: 'Importe', num: true },
        { label: 'Estado' },
      ],
      rows,
      { empty: 'No hay pedidos.', className: 'orders' },
    ),
  );
}

// ---------------------------------------------------------------------------------------
// Point of sale

const PAYMENT = [
  ['card', 'Tarjeta'],
  ['cash', 'Efectivo'],
  ['bizum', 'Bizum'],
];

async function renderPos(ctx) {
  const today = bakeryDay();
  // today's takings from the summary, and only the latest tickets: a bakery's day has hundreds
  const [products, todaySummary, latest] = await Promise.all([
    getAll('/api/products'),
    get(`/api/sales/summary?from=${today}&to=${today}&tz=${encodeURIComponent(bakeryTimeZone())}`),
    get(`/api/sales?limit=${LATEST_TICKETS}`),
  ]);
  const todaysSales = latest.items.filter((s) => bakeryDay(new Date(s.sold_at)) === today);
  const todayCount = { tickets: todaySummary.tickets, total: num(todaySummary.total) };
  const allowed = ctx.policy.allows('POST', '/api/pos/sales');
  const cart = new Map(); // product id → quantity
  const byId = new Map(products.map((p) => [p.id, p]));

  const cartBody = el('tbody');
  const totalValue = el('span', { class: 'pos-total-value', id: 'pos-total' }, money(0));
  const result = el('div', { class: 'pos-result', id: 'pos-result', role: 'status', 'aria-live': 'polite' });
  const charge = el('button', { type: 'submit', class: 'btn btn-primary btn-large', id: 'pos-charge' }, 'Cobrar');
  if (!allowed) {
    setDisabled(charge, ctx.policy.message);
    charge.dataset.refusal = 'policy';
  }

  const stockText = (p) => (num(p.on_hand) > 0 ? `Quedan ${qtyUnit(p.on_hand, p.unit)}` : 'Sin existencias');

  // the till offers what is on sale today: a seasonal sweet only in its season
  const onSale = products.filter((p) => inSeason(p, today));
  const tiles = onSale.map((p) =>
    el(
      'button',
      {
        type: 'button',
        class: ['tile', num(p.on_hand) <= 0 ? 'tile-empty' : null],
        'data-id': p.id,
        onclick: () => add(p.id, 1),
      },
      el('span', { class: 'sr-only' }, 'Añadir '),
      el('span', { class: 'tile-name' }, p.name),
      el('span', { class: 'tile-price' }, money(p.sale_price)),
      el('span', { class: 'tile-stock', 'data-stock': num(p.on_hand) }, stockText(p)),
    ),
  );

  function add(id, n) {
    const p = byId.get(id);
    const next = (cart.get(id) || 0) + n;
    if (next <= 0) cart.delete(id);
    else cart.set(id, next);
    if (p && next > num(p.on_hand) && num(p.on_hand) > 0) {
      toast(`Solo quedan ${qtyUnit(p.on_hand, p.unit)} de ${p.name}.`, 'info');
    }
    drawCart();
  }

  function drawCart() {
    let total = 0;
    const rows = [...cart.entries()].map(([id, n]) => {
      const p = byId.get(id);
      const line = num(p.sale_price) * n;
      total += line;
      const input = el('input', {
        type: 'number',
        min: '1',
        step: '1',
        value: String(n),
        inputmode: 'numeric',
        class: 'qty-input',
        'aria-label': `Cantidad de ${p.name}`,
        onchange: (e) => {
          const v = Math.floor(Number(e.target.value));
          if (v > 0) cart.set(id, v);
          else cart.delete(id);
          drawCart();
        },
      });
      return el(
        'tr',
        { 'data-id': id },
        el('th', { scope: 'row' }, p.name),
        el('td', { class: 'num' }, input),
        el('td', { class: 'num' }, money(line)),
        el('td', null, el('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-label': `Quitar ${p.name}`, onclick: () => add(id, -n) }, 'Quitar')),
      );
    });
    cartBody.replaceChildren(...(rows.length ? rows : [el('tr', null, el('td', { colspan: '4', class: 'empty' }, 'Toca un producto para añadirlo al ticket.'))]));
    totalValue.textContent = money(total);
  }
  drawCart();

  const form = el(
    'form',
    {
      class: 'pos-ticket card',
      'aria-labelledby': 'ticket-title',
      onsubmit: async (e) => {
        e.preventDefault();
        if (refused(charge)) return;
        if (cart.size === 0) {
          toast('Añade al menos un producto al ticket.', 'info');
          return;
        }
        const method = form.querySelector('input[name="payment"]:checked')?.value || 'card';
        const lines = [...cart.entries()].map(([product_id, quantity]) => ({ product_id, quantity }));
        const before = new Map(lines.map((l) => [l.product_id, num(byId.get(l.product_id)?.on_hand)]));
        charge.disabled = true;
        try {
          const outcome = await post('/api/pos/sales', { lines, payment_method: method });
          cart.clear();
          drawCart();
          const changes = (outcome.stock || []).map((s) => {
            const p = byId.get(s.product_id);
            if (p) p.on_hand = s.on_hand;
            return el(
              'li',
              { 'data-id': s.product_id },
              el('span', { class: 'item-name' }, p?.name ?? 'Producto'),
              ' ',
              el('span', { class: 'stock-change' }, `${qty(before.get(s.product_id))} → ${qtyUnit(s.on_hand, p?.unit)}`),
            );
          });
          for (const tile of tiles) {
            const p = byId.get(tile.dataset.id);
            const stock = tile.querySelector('.tile-stock');
            stock.textContent = stockText(p);
            stock.dataset.stock = num(p.on_hand);
            tile.classList.toggle('tile-empty', num(p.on_hand) <= 0);
          }
          result.replaceChildren(
            el(
              'div',
              { class: 'notice notice-ok' },
              el('p', null, el('strong', null, `Venta registrada: ${money(outcome.sale?.total)}`), ` · ${PAYMENT.find(([v]) => v === method)?.[1] ?? method}`),
              el('p', { class: 'small' }, 'Existencias después de la venta:'),
              el('ul', { class: 'stock-changes' }, changes),
            ),
          );
          todaysSales.unshift(outcome.sale);
          if (todaysSales.length > LATEST_TICKETS) todaysSales.pop();
          todayCount.tickets += 1;
          todayCount.total += num(outcome.sale.total);
          drawToday();
          ctx.progress('sale');
        } catch (err) {
          if (err.sessionGone) {
            ctx.showError(err);
            return;
          }
          result.replaceChildren(el('div', { class: 'notice notice-error', role: 'alert' }, el('p', null, err.friendly || 'No se ha podido registrar la venta.')));
        } finally {
          charge.disabled = false;
        }
      },
    },
    el('h2', { id: 'ticket-title' }, 'Ticket'),
    el(
      'table',
      { class: 'cart' },
      el('caption', { class: 'sr-only' }, 'Productos del ticket'),
      el('thead', null, el('tr', null, el('th', { scope: 'col' }, 'Producto'), el('th', { scope: 'col', class: 'num' }, 'Uds.'), el('th', { scope: 'col', class: 'num' }, 'Importe'), el('th', { scope: 'col' }, el('span', { class: 'sr-only' }, 'Quitar')))),
      cartBody,
    ),
    el(
      'fieldset',
      { class: 'payment' },
      el('legend', null, 'Forma de pago'),
      PAYMENT.map(([value, label], i) =>
        el('label', { class: 'radio' }, el('input', { type: 'radio', name: 'payment', value, checked: i === 0 }), ' ', label),
      ),
    ),
    el('p', { class: 'pos-total' }, el('span', null, 'Total'), totalValue),
    charge,
    result,
  );

  const todayList = el('ul', { class: 'today-sales' });
  function drawToday() {
    todayList.replaceChildren(
      ...(todaysSales.length
        ? todaysSales.map((s) =>
            el(
              'li',
              { 'data-sale-id': s.id },
              el('span', null, timeOfDay(s.sold_at)),
              el('span', null, (s.lines || []).map((l) => `${qty(l.quantity)} × ${byId.get(l.product_id)?.name ?? 'producto'}`).join(', ')),
              el('strong', null, money(s.total)),
            ),
          )
        : [el('li', { class: 'empty' }, 'Todavía no hay ventas hoy.')]),
    );
    todayHeading.textContent = `Ventas de hoy · ${money(todayCount.total)}`;
    todayNote.textContent =
      todayCount.tickets > todaysSales.length
        ? `${todayCount.tickets} tickets hoy; aquí, los ${todaysSales.length} últimos.`
        : todayCount.tickets === 1
          ? '1 ticket hoy.'
          : `${todayCount.tickets} tickets hoy.`;
  }
  const todayHeading = el('h2', { id: 'today-title' }, 'Ventas de hoy');
  const todayNote = el('p', { class: 'muted small', id: 'today-count' });
  drawToday();

  const madeInHouse = products.filter((p) => p.kind === 'finished' && num(p.on_hand) <= 0);
  const bakeHint =
    madeInHouse.length > 0
      ? el(
          'div',
          { class: 'notice notice-info' },
          el('p', null, `Hay ${madeInHouse.length === 1 ? 'un producto' : `${madeInHouse.length} productos`} sin existencias en tienda. Registra la hornada con un recuento para poder venderlos.`),
          el(
            'div',
            { class: 'actions' },
            madeInHouse.slice(0, 4).map((p) => adjustButton(ctx, p, 'product', `Registrar hornada: ${p.name}`, { quantity: '40', note: 'Hornada de hoy' })),
          ),
        )
      : null;

  return screen(
    'Punto de venta',
    'Registra una venta como en el mostrador: descuenta las existencias del producto al momento.',
    bakeHint,
    el(
      'div',
      { class: 'pos' },
      el('section', { class: 'card pos-products', 'aria-labelledby': 'tiles-title' }, el('h2', { id: 'tiles-title' }, 'Productos'), el('div', { class: 'tiles' }, tiles)),
      el('div', { class: 'pos-side' }, form, el('section', { class: 'card', 'aria-labelledby': 'today-title' }, todayHeading, todayNote, todayList)),
    ),
  );
}

// ---------------------------------------------------------------------------------------
// Forecasts: blocked for demo sessions by the default policy

async function renderForecasts(ctx) {
  if (!ctx.policy.allows('GET', '/api/forecasts/models')) {
    return screen(
      'Previsión de la demanda',
      null,
      el(
        'div',
        { class: 'panel unavailable' },
        icon('lock', 'ended-icon'),
        el('h2', null, 'No disponible en la demo'),
        el('p', null, 'La previsión de la demanda entrena modelos con el historial de ventas de cada producto, y es una función reservada a cuentas reales.'),
        el('p', { class: 'muted' }, ctx.policy.message),
        signupOffer()
          ? el('div', { class: 'actions' }, el('button', { type: 'button', class: 'btn btn-primary', onclick: () => signupOffer().onclick() }, 'Crear mi cuenta'))
          : null,
      ),
    );
  }
  const models = await getAll('/api/forecasts/models');
  return screen(
    'Previsión de la demanda',
    'Modelos de previsión entrenados por producto.',
    table(
      'Modelos de previsión',
      [{ label: 'Producto' }, { label: 'Algoritmo' }, { label: 'Estado' }, { label: 'Entrenado' }],
      models.map((m) => ({ cells: [m.product_name, m.algorithm, m.status, when(m.trained_at)] })),
      { empty: 'Sin modelos.' },
    ),
  );
}

/** name (the URL's `#/name`) → screen */
export const VIEWS = {
  panel: { title: 'Panel', render: renderDashboard },
  ingredientes: { title: 'Ingredientes', render: renderIngredients },
  productos: { title: 'Productos y recetas', render: renderProducts },
  pedidos: { title: 'Pedidos', render: renderOrders },
  venta: { title: 'Punto de venta', render: renderPos },
  prevision: { title: 'Previsión', render: renderForecasts, probe: '/api/forecasts/models' },
};
