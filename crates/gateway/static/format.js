// Small helpers: building DOM safely (text is never parsed as HTML) and Spanish formats.

const SVG_NS = 'http://www.w3.org/2000/svg';

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function setAttrs(node, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      node.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    } else if (key === 'dataset') {
      Object.assign(node.dataset, value);
    } else {
      node.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

/** `el('p', {class: 'x'}, 'text', child…)` */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  return append(node, children);
}

/** The same for SVG elements. */
export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  return append(node, children);
}

const euro = new Intl.NumberFormat('es-ES', { style: 'currency', currency: 'EUR' });
const number = new Intl.NumberFormat('es-ES', { maximumFractionDigits: 3 });
const percent = new Intl.NumberFormat('es-ES', { style: 'percent', maximumFractionDigits: 0 });
const shortDate = new Intl.DateTimeFormat('es-ES', { day: 'numeric', month: 'short', timeZone: 'UTC' });
const weekday = new Intl.DateTimeFormat('es-ES', { weekday: 'short', timeZone: 'UTC' });

// The bakery's clock: every day ("hoy", the last 7 days) and every time on the screens is
// the bakery's (tenant-service's `timezone`, Europe/Madrid for the demo bakeries), whatever
// the zone of the browser that shows them. The API's `from`/`to` are UTC days: the screens
// ask for a day more on each side and sort the sales into the bakery's days.
export const DEFAULT_TIME_ZONE = 'Europe/Madrid';
let zone = DEFAULT_TIME_ZONE;
let dateTime;
let timeOfDayFormat;
let dayParts;
function useZone(name) {
  zone = name;
  dateTime = new Intl.DateTimeFormat('es-ES', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone: name });
  timeOfDayFormat = new Intl.DateTimeFormat('es-ES', { hour: '2-digit', minute: '2-digit', timeZone: name });
  dayParts = new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: name });
}
useZone(DEFAULT_TIME_ZONE);

/** Uses the bakery's time zone `name` from now on (the default for a missing or unknown one). */
export function setBakeryTimeZone(name) {
  let next = DEFAULT_TIME_ZONE;
  if (typeof name === 'string' && name !== '') {
    try {
      new Intl.DateTimeFormat('es-ES', { timeZone: name });
      next = name;
    } catch {
      // an unknown zone: the default
    }
  }
  useZone(next);
}

/** The bakery's time zone (an IANA name): what the API's summaries are asked in. */
export const bakeryTimeZone = () => zone;

/** The place a zone is named after: "Madrid" for Europe/Madrid. */
export const zonePlace = () => zone.split('/').pop().replace(/_/g, ' ');

/** `YYYY-MM-DD` of an instant (a Date, or now) in the bakery's time zone. */
export function bakeryDay(instant = new Date()) {
  const part = Object.fromEntries(dayParts.formatToParts(instant).map((p) => [p.type, p.value]));
  return `${part.year}-${part.month}-${part.day}`;
}

/**
 * Is a product on sale on `day` (`YYYY-MM-DD`, the bakery's)? A seasonal one (`season`:
 * `{from, to}`, days of the year as `MM-DD`, both included) only in its season, which may
 * run over New Year; one without a season, all year.
 */
export function inSeason(product, day = bakeryDay()) {
  if (!product.season) return true;
  const md = day.slice(5);
  const { from, to } = product.season;
  return from <= to ? from <= md && md <= to : md >= from || md <= to;
}

/** "20 dic – 6 ene" of a season. */
export const seasonLabel = ({ from, to }) => `${dayLabel(`2024-${from}`)} – ${dayLabel(`2024-${to}`)}`;

export const num = (v) => Number(v ?? 0);
export const money = (v) => euro.format(num(v));
export const qty = (v) => number.format(num(v));
export const pct = (v) => percent.format(v);

const UNITS = { unidad: 'ud.', kg: 'kg', g: 'g', l: 'l', ml: 'ml' };
export const unit = (u) => UNITS[u] ?? u ?? '';
export const qtyUnit = (v, u) => `${qty(v)} ${unit(u)}`.trim();

/** `YYYY-MM-DD` of a Date in UTC (the API's `from`/`to` are UTC days). */
export function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

export function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return isoDay(d);
}

/** "17 nov" of a `YYYY-MM-DD` day. */
export const dayLabel = (day) => shortDate.format(new Date(`${day}T00:00:00Z`));
export const weekdayLabel = (day) => weekday.format(new Date(`${day}T00:00:00Z`)).replace('.', '');
/** "1 dic, 05:08" of an instant, on the bakery's clock. */
export const when = (iso) => dateTime.format(new Date(iso));
/** "05:08" of an instant, on the bakery's clock. */
export const timeOfDay = (iso) => timeOfDayFormat.format(new Date(iso));

/** Days from the bakery's today to `day`: 0 today, 1 tomorrow, -1 yesterday. */
export function daysFromToday(day) {
  const today = Date.parse(`${bakeryDay()}T00:00:00Z`);
  return Math.round((Date.parse(`${day}T00:00:00Z`) - today) / 86400000);
}

export function expiryLabel(day) {
  if (!day) return 'sin caducidad';
  const n = daysFromToday(day);
  if (n < 0) return n === -1 ? 'caducó ayer' : `caducó hace ${-n} días`;
  if (n === 0) return 'caduca hoy';
  if (n === 1) return 'caduca mañana';
  return `caduca en ${n} días`;
}

/** `mm:ss`, or `h:mm:ss` from an hour up. */
export function clock(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${String(m).padStart(2, '0')}:${ss}`;
}

/** "28 minutos", "1 minuto", "45 segundos": for screen readers and warnings. */
export function spokenTime(totalSeconds) {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s >= 120) return `${Math.round(s / 60)} minutos`;
  if (s >= 60) return '1 minuto';
  return `${s} segundos`;
}

const ICONS = {
  lock: 'M7 10V7a5 5 0 0 1 10 0v3M5 10h14v11H5z',
  check: 'M4 12.5 9.5 18 20 6',
  hourglass: 'M6 2h12M6 22h12M7 2c0 6 10 6 10 10S7 16 7 22M17 2c0 6-10 6-10 10s10 4 10 10',
};

/** A small line icon (decorative: hidden from screen readers). */
export function icon(name, className = 'icon') {
  return svg(
    'svg',
    { viewBox: '0 0 24 24', class: className, 'aria-hidden': 'true', focusable: 'false' },
    svg('path', { d: ICONS[name], fill: 'none', stroke: 'currentColor', 'stroke-width': '2', 'stroke-linecap': 'round', 'stroke-linejoin': 'round' }),
  );
}
