// From demo to customer, and back in: the sign-up form of a running demo ("Crear mi
// cuenta": `GET …/convert` for the counts, `POST …/convert`) and the login form ("Entrar":
// `POST /api/auth/login`, for customers and for the published demo accounts).
//
// Both render into the page's <main> and hand their answer to app.js, which owns the
// session (demo or customer). Errors are shown in Spanish next to the field they concern
// (`aria-invalid`, `aria-describedby`, an `aria-live` line), never as raw JSON.

import { ApiError, get, post } from './api.js';
import { el, qty } from './format.js';

/** The data sets a prospect may keep, in the API's order, explained. */
export const DATA_SETS = [
  {
    id: 'catalog',
    title: 'Catálogo',
    text: 'Tus ingredientes, productos y recetas escandalladas, con los cambios que hayas hecho en la demo.',
  },
  {
    id: 'suppliers',
    title: 'Proveedores',
    text: 'Los proveedores de la panadería y sus datos de contacto.',
  },
  {
    id: 'stock',
    title: 'Existencias',
    text: 'Los lotes que quedan ahora en almacén y tienda, con sus movimientos (incluidos tus ajustes).',
  },
  {
    id: 'orders',
    title: 'Pedidos a proveedores',
    text: 'Los pedidos, sus líneas y sus entregas, también los que hayas hecho en la demo.',
  },
  {
    id: 'sales',
    title: 'Historial de ventas',
    text: 'Las ventas del TPV (las de ejemplo y las tuyas) y las tandas de producción detrás de ellas. Lo normal es empezar sin ellas.',
  },
];

const TITLES = Object.fromEntries(DATA_SETS.map((d) => [d.id, d.title]));

/** Tables, as a person would call them: [one, many]. */
const TABLES = {
  ingredients: ['ingrediente', 'ingredientes'],
  products: ['producto', 'productos'],
  recipes: ['receta', 'recetas'],
  recipe_lines: ['línea de receta', 'líneas de receta'],
  suppliers: ['proveedor', 'proveedores'],
  stock_lots: ['lote', 'lotes'],
  stock_movements: ['movimiento', 'movimientos'],
  purchase_orders: ['pedido', 'pedidos'],
  purchase_order_lines: ['línea de pedido', 'líneas de pedido'],
  deliveries: ['entrega', 'entregas'],
  sales: ['venta', 'ventas'],
  sale_lines: ['línea de venta', 'líneas de venta'],
  production_batches: ['tanda de producción', 'tandas de producción'],
};

function rowsLabel(table, n) {
  const [one, many] = TABLES[table] ?? [table, table];
  return `${qty(n)} ${n === 1 ? one : many}`;
}

function listJoin(items) {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} y ${items[items.length - 1]}`;
}

/** The password rule of the API (`weak_password`): 10+ characters, two kinds at least. */
export function passwordChecks(value) {
  const kinds = [/[a-zñáéíóúü]/, /[A-ZÑÁÉÍÓÚÜ]/, /[0-9]/, /[^A-Za-z0-9ñÑáéíóúüÁÉÍÓÚÜ]/].filter((re) => re.test(value)).length;
  return { length: [...value].length >= 10, kinds: kinds >= 2 };
}

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A labelled input with its error line (`aria-live`), wired for `aria-describedby`. */
function inputField(id, label, attrs, hint = null) {
  const error = el('p', { class: 'field-error', id: `${id}-error`, 'aria-live': 'polite' });
  const described = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' ');
  const input = el('input', { id, name: id, 'aria-describedby': described, ...attrs });
  // what was wrong is forgotten once the person changes it
  input.addEventListener('input', () => {
    error.textContent = '';
    input.removeAttribute('aria-invalid');
  });
  const wrap = el(
    'div',
    { class: 'field' },
    el('label', { for: id }, label),
    input,
    hint ? (typeof hint === 'string' ? el('p', { class: 'field-hint', id: `${id}-hint` }, hint) : hint) : null,
    error,
  );
  return { wrap, input, error };
}

function setFieldError(f, message) {
  f.error.textContent = message || '';
  if (message) f.input.setAttribute('aria-invalid', 'true');
  else f.input.removeAttribute('aria-invalid');
}

// ---------------------------------------------------------------------------------------
// Sign-up ("Crear mi cuenta")

/**
 * The sign-up form of the running demo `session`. `onDone(answer, details)` gets the `201`
 * of `POST …/convert`; `onLoggedIn(answer)` the `200` of `POST /api/auth/login` when the
 * session had already become the account (see below); `onGone(error)` a session that ended
 * meanwhile.
 */
export function renderSignup({ session, onDone, onLoggedIn, onGone }) {
  const id = encodeURIComponent(session.session_id);
  const bakery = inputField('su-bakery', 'Nombre de tu panadería', {
    type: 'text',
    autocomplete: 'organization',
    maxlength: '200',
    required: true,
  });
  const owner = inputField('su-owner', 'Tu nombre', { type: 'text', autocomplete: 'name', maxlength: '200', required: true });
  const email = inputField('su-email', 'Correo electrónico', {
    type: 'email',
    autocomplete: 'email',
    inputmode: 'email',
    required: true,
  }, 'Será tu usuario para entrar.');
  const rules = el(
    'ul',
    { class: 'password-rules', id: 'su-password-hint' },
    el('li', { 'data-rule': 'length' }, 'Al menos 10 caracteres'),
    el('li', { 'data-rule': 'kinds' }, 'Al menos dos tipos entre minúsculas, mayúsculas, números y símbolos'),
  );
  const password = inputField('su-password', 'Contraseña', {
    type: 'password',
    autocomplete: 'new-password',
    required: true,
  }, rules);
  const show = el('input', { type: 'checkbox', id: 'su-show' });
  show.addEventListener('change', () => {
    password.input.type = show.checked ? 'text' : 'password';
  });
  const updateRules = () => {
    const checks = passwordChecks(password.input.value);
    for (const li of rules.children) {
      const ok = checks[li.dataset.rule];
      li.classList.toggle('rule-ok', ok);
      li.dataset.ok = ok ? 'true' : 'false';
    }
  };
  password.input.addEventListener('input', updateRules);

  // keep choices: each data set, its counts (filled when GET …/convert answers) and what it needs
  const boxes = new Map();
  const needsOf = new Map(); // id → [ids it needs]
  const preview = new Map(); // id → data set preview
  const options = DATA_SETS.map((d) => {
    const box = el('input', {
      type: 'checkbox',
      id: `keep-${d.id}`,
      name: 'keep',
      value: d.id,
      checked: d.id !== 'sales' && d.id !== 'orders',
      'aria-describedby': `keep-${d.id}-text keep-${d.id}-count keep-${d.id}-note`,
    });
    boxes.set(d.id, box);
    return el(
      'li',
      { class: 'keep-option', 'data-set': d.id },
      box,
      el(
        'div',
        { class: 'keep-body' },
        el('label', { for: `keep-${d.id}`, class: 'keep-title' }, d.title),
        el('p', { class: 'keep-text', id: `keep-${d.id}-text` }, d.text),
        el('p', { class: 'keep-count', id: `keep-${d.id}-count` }, 'Contando…'),
        el('p', { class: 'keep-note', id: `keep-${d.id}-note` }),
      ),
    );
  });
  const summary = el('p', { class: 'keep-summary', id: 'keep-summary', role: 'status', 'aria-live': 'polite' });

  /** Ticks what the chosen sets need, locks it while needed, and says why; sums the rows. */
  const syncKeep = () => {
    const required = new Map(); // needed id → [titles of the sets that need it]
    for (const [setId, box] of boxes) {
      if (!box.checked) continue;
      for (const need of needsOf.get(setId) || []) {
        if (!required.has(need)) required.set(need, []);
        required.get(need).push(TITLES[setId]);
      }
    }
    // a set needed by a set that is itself required (none today) still gets ticked
    for (const [setId, box] of boxes) {
      const by = required.get(setId);
      const note = document.getElementById(`keep-${setId}-note`) || box.closest('li').querySelector('.keep-note');
      if (by) {
        box.checked = true;
        box.disabled = true;
        note.textContent = `Incluido porque lo necesita${by.length > 1 ? 'n' : ''}: ${listJoin(by)}.`;
      } else {
        box.disabled = false;
        note.textContent = (needsOf.get(setId) || []).length
          ? `Trae consigo: ${listJoin(needsOf.get(setId).map((n) => TITLES[n]))}.`
          : '';
      }
      box.closest('li').classList.toggle('is-kept', box.checked);
    }
    const kept = [...boxes].filter(([, b]) => b.checked).map(([k]) => k);
    if (preview.size === 0) {
      summary.textContent = kept.length
        ? `Conservarás: ${listJoin(kept.map((k) => TITLES[k].toLowerCase()))}.`
        : 'No conservarás nada de la demo: empezarás con la cuenta vacía.';
      return;
    }
    const rows = kept.reduce((sum, k) => sum + (Number(preview.get(k)?.rows) || 0), 0);
    summary.textContent = kept.length
      ? `Pasarán a tu cuenta ${qty(rows)} registros: ${listJoin(kept.map((k) => TITLES[k].toLowerCase()))}. Lo demás se borra con la demo.`
      : 'No conservarás nada de la demo: empezarás con la cuenta vacía.';
  };
  for (const box of boxes.values()) box.addEventListener('change', syncKeep);
  // the contract's dependencies until the server's answer (same rule)
  needsOf.set('stock', ['catalog']);
  needsOf.set('sales', ['catalog']);
  needsOf.set('orders', ['catalog', 'suppliers']);
  syncKeep();

  get(`/api/demo/session/${id}/convert`)
    .then((data) => {
      for (const d of Array.isArray(data?.data_sets) ? data.data_sets : []) {
        preview.set(d.id, d);
        needsOf.set(d.id, Array.isArray(d.needs) ? d.needs : []);
        const count = document.getElementById(`keep-${d.id}-count`);
        if (!count) continue;
        const parts = Object.entries(d.tables || {})
          .filter(([, n]) => Number(n) > 0)
          .map(([t, n]) => rowsLabel(t, Number(n)));
        count.textContent = parts.length ? `${parts.join(' · ')}${d.capped ? ' (o más)' : ''}` : 'Nada que conservar ahora.';
        count.dataset.rows = String(d.rows ?? 0);
      }
      syncKeep();
    })
    .catch((error) => {
      if (error instanceof ApiError && error.sessionGone) {
        onGone(error);
        return;
      }
      for (const d of DATA_SETS) {
        const count = document.getElementById(`keep-${d.id}-count`);
        if (count) count.textContent = 'No hemos podido contar sus datos ahora.';
      }
    });

  const formError = el('p', { class: 'form-error', id: 'su-error', role: 'alert', hidden: true });
  const submit = el('button', { type: 'submit', class: 'btn btn-primary btn-large', id: 'su-submit' }, 'Crear mi cuenta');
  const fields = { bakery, owner, email, password };
  const byCode = {
    invalid_bakery_name: bakery,
    invalid_owner_name: owner,
    invalid_email: email,
    email_taken: email,
    weak_password: password,
  };

  const clearErrors = () => {
    for (const f of Object.values(fields)) setFieldError(f, '');
    formError.hidden = true;
    formError.textContent = '';
  };

  /** The page's own checks, the API's rules: the first wrong field gets the focus. */
  const checkLocally = () => {
    const problems = [];
    if (!bakery.input.value.trim()) problems.push([bakery, 'Escribe el nombre de tu panadería.']);
    if (!owner.input.value.trim()) problems.push([owner, 'Escribe tu nombre.']);
    if (!EMAIL_SHAPE.test(email.input.value.trim())) problems.push([email, 'Escribe un correo válido, por ejemplo nombre@tupanaderia.es.']);
    const checks = passwordChecks(password.input.value);
    if (!checks.length || !checks.kinds) {
      problems.push([password, 'La contraseña necesita al menos 10 caracteres y dos tipos entre minúsculas, mayúsculas, números y símbolos.']);
    }
    for (const [f, message] of problems) setFieldError(f, message);
    if (problems.length) problems[0][0].input.focus();
    return problems.length === 0;
  };

  const onsubmit = async (e) => {
    e.preventDefault();
    clearErrors();
    if (!checkLocally()) return;
    const keep = [...boxes].filter(([, b]) => b.checked).map(([k]) => k);
    const body = {
      bakery_name: bakery.input.value.trim(),
      owner_name: owner.input.value.trim(),
      email: email.input.value.trim(),
      password: password.input.value,
      keep,
    };
    submit.disabled = true;
    submit.textContent = 'Creando tu cuenta…';
    form.setAttribute('aria-busy', 'true');
    try {
      const answer = await post(`/api/demo/session/${id}/convert`, body);
      onDone(answer, { bakery_name: body.bakery_name, owner_name: body.owner_name, email: body.email, keep });
    } catch (error) {
      if (!(error instanceof ApiError)) {
        formError.textContent = 'No hemos podido crear tu cuenta. Inténtalo de nuevo.';
        formError.hidden = false;
        return;
      }
      if (error.sessionGone) {
        // A conversion ends the session. When an earlier submit's answer was lost (the
        // connection dropped after the account was made), the gateway no longer knows the
        // session and a second submit ends here: the account is there, so enter it with
        // what was just typed. Anything else really is a session that ended.
        const answer = await post('/api/auth/login', { email: body.email, password: body.password }, { session: false }).catch(() => null);
        if (answer?.access_token && !answer.demo) onLoggedIn(answer);
        else onGone(error);
        return;
      }
      const f = byCode[error.code];
      if (f) {
        setFieldError(
          f,
          error.code === 'email_taken'
            ? 'Ya existe una cuenta con este correo. Entra con ella desde «Entrar» o usa otro correo.'
            : error.message,
        );
        f.input.focus();
        return;
      }
      formError.textContent =
        error.code === 'conversion_failed'
          ? `No hemos podido crear tu cuenta y no se ha guardado nada: tu demo sigue como estaba. ${error.friendly.replace(error.message, '').trim()}`.trim()
          : error.status === 429
            ? `Has intentado crear demasiadas cuentas desde esta conexión. ${error.friendly.replace(error.message, '').trim()}`.trim()
            : error.friendly;
      formError.hidden = false;
      formError.focus?.();
    } finally {
      if (submit.isConnected) {
        submit.disabled = false;
        submit.textContent = 'Crear mi cuenta';
        form.removeAttribute('aria-busy');
      }
    }
  };

  const form = el(
    'form',
    { class: 'signup-form', novalidate: true, onsubmit, 'aria-labelledby': 'signup-title' },
    el(
      'fieldset',
      { class: 'signup-group' },
      el('legend', null, 'Tus datos'),
      bakery.wrap,
      owner.wrap,
      email.wrap,
      password.wrap,
      el('div', { class: 'check' }, show, el('label', { for: 'su-show' }, 'Mostrar la contraseña')),
    ),
    el(
      'fieldset',
      { class: 'signup-group' },
      el('legend', null, 'Qué quieres conservar de la demo'),
      el(
        'p',
        { class: 'muted small' },
        'Lo que marques pasa a tu cuenta tal y como está ahora; lo demás se borra con la demo. ' +
          'Lo que un dato necesita se marca solo.',
      ),
      el('ul', { class: 'keep-options' }, options),
      summary,
    ),
    formError,
    el('div', { class: 'actions' }, submit, el('a', { class: 'btn btn-ghost', href: '#/panel' }, 'Seguir con la demo')),
  );

  return el(
    'section',
    { class: 'signup panel', 'aria-labelledby': 'signup-title' },
    el('p', { class: 'eyebrow' }, 'Crear mi cuenta'),
    el('h1', { id: 'signup-title', tabindex: '-1' }, 'Sigue con tu panadería, ya como cliente'),
    el(
      'p',
      { class: 'lead' },
      `Crea tu cuenta y llévate lo que has preparado en ${session.bakery_name || 'la demo'}. ` +
        'Tu demo termina al crearla y entras directamente en tu cuenta.',
    ),
    form,
  );
}

// ---------------------------------------------------------------------------------------
// Login ("Entrar")

/**
 * The login form. `accounts`: the published demo accounts (their logins are offered).
 * `onCustomer(answer)` gets a customer's `200`; `onDemo(session, account)` the session a
 * demo account's login started.
 */
export function renderLogin({ accounts, notice, onCustomer, onDemo }) {
  const email = inputField('login-email', 'Correo electrónico', {
    type: 'email',
    autocomplete: 'username',
    inputmode: 'email',
    required: true,
  });
  const password = inputField('login-password', 'Contraseña', {
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const formError = el('p', { class: 'form-error', id: 'login-error', role: 'alert', hidden: true });
  const submit = el('button', { type: 'submit', class: 'btn btn-primary btn-large', id: 'login-submit' }, 'Entrar');

  const onsubmit = async (e) => {
    e.preventDefault();
    setFieldError(email, '');
    setFieldError(password, '');
    formError.hidden = true;
    if (!EMAIL_SHAPE.test(email.input.value.trim())) {
      setFieldError(email, 'Escribe el correo con el que te registraste.');
      email.input.focus();
      return;
    }
    if (!password.input.value) {
      setFieldError(password, 'Escribe tu contraseña.');
      password.input.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Entrando…';
    try {
      const answer = await post(
        '/api/auth/login',
        { email: email.input.value.trim(), password: password.input.value },
        { session: false },
      );
      if (answer?.demo && answer.session) {
        // a place in line (at the cap) does not name its bakery yet: the login's address does
        const typed = email.input.value.trim().toLowerCase();
        const type = answer.session.demo_account_type;
        const account =
          (accounts || []).find((a) => (type ? a.account_type === type : a.email?.toLowerCase() === typed)) || null;
        onDemo(answer.session, account);
      } else {
        onCustomer(answer);
      }
    } catch (error) {
      if (error instanceof ApiError && (error.code === 'invalid_credentials' || error.code === 'invalid_input')) {
        setFieldError(password, 'El correo o la contraseña no son correctos.');
        password.input.select();
        password.input.focus();
      } else {
        formError.textContent = error instanceof ApiError ? error.friendly : 'No hemos podido entrar. Inténtalo de nuevo.';
        formError.hidden = false;
      }
    } finally {
      if (submit.isConnected) {
        submit.disabled = false;
        submit.textContent = 'Entrar';
      }
    }
  };

  const demoLogins = (accounts || []).filter((a) => a.email && a.password);
  return el(
    'section',
    { class: 'login panel', 'aria-labelledby': 'login-title' },
    notice ? el('div', { class: 'notice notice-info', role: 'alert' }, el('p', null, notice)) : null,
    el('h1', { id: 'login-title', tabindex: '-1' }, 'Entrar'),
    el('p', { class: 'muted' }, 'Con el correo y la contraseña de tu cuenta de Bakery-IA.'),
    el(
      'form',
      { class: 'login-form', novalidate: true, onsubmit, 'aria-labelledby': 'login-title' },
      email.wrap,
      password.wrap,
      formError,
      el('div', { class: 'actions' }, submit),
    ),
    demoLogins.length
      ? el(
          'div',
          { class: 'demo-logins' },
          el('h2', null, '¿Aún no tienes cuenta? Entra en una demo'),
          el('p', { class: 'muted small' }, 'Estos accesos públicos abren una copia privada de 30 minutos de cada panadería de ejemplo.'),
          el(
            'ul',
            null,
            demoLogins.map((a) =>
              el(
                'li',
                null,
                el('span', { class: 'demo-login-name' }, a.name),
                el('span', { class: 'demo-login-cred' }, `${a.email} · ${a.password}`),
                el(
                  'button',
                  {
                    type: 'button',
                    class: 'btn btn-secondary btn-small',
                    'aria-label': `Usar el acceso de ${a.name}`,
                    onclick: () => {
                      email.input.value = a.email;
                      password.input.value = a.password;
                      submit.focus();
                    },
                  },
                  'Usar',
                ),
              ),
            ),
          ),
        )
      : null,
  );
}
