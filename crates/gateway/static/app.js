// The prospect's demo page: the landing (both demo bakeries, "Entrar"), the running session
// (badge, countdown, extend, end, warnings, expiry, "Empezar de nuevo", "Crear mi cuenta"),
// a customer's own account (after signing up or logging in: no badge, no timer, "Salir")
// and the router of the screens in views.js.
//
// The demo session and a customer's access token live in sessionStorage, so a reload
// keeps them and closing the tab forgets them. Every API call of a session carries
// `X-Demo-Session-Id`; every call of a customer `Authorization: Bearer`.

import { ApiError, del, get, post, useAccessToken, useSession } from './api.js';
import { renderLogin, renderSignup } from './account.js';
import { refreshChecklist, screenViewed, signupStarted, startChecklist, stopChecklist } from './checklist.js';
import { clock, el, icon, qty, spokenTime } from './format.js';
import { Policy, loadPolicy } from './policy.js';
import { refusal, refused, setDisabled, setSignupAction, toast } from './ui.js';
import { VIEWS, useBakeryClock } from './views.js';
import { LeftTheLine, waitInLine } from './waiting.js';

const STORAGE_KEY = 'bakery-ia.demo-session';
const CUSTOMER_KEY = 'bakery-ia.customer';
const SIGNUP_VIEW = 'crear-cuenta';
const FOOTER_NOTE =
  'Bakery-IA · gestión inteligente para panaderías. Los datos de la demo son ficticios y se borran al terminar la sesión.';
const LOGIN_VIEW = 'entrar';
// a customer's own account: whatever the services allow (the role decides, server-side)
const CUSTOMER_POLICY = new Policy({ message: '', deny: [], allow: [{ methods: ['*'], path: '/**' }] });
const WARNINGS = [
  { at: 300, text: 'Quedan 5 minutos de demo. Si necesitas más tiempo, puedes ampliarla 30 minutos.' },
  { at: 60, text: 'Queda 1 minuto de demo. Al terminar se borrarán los datos de esta sesión.' },
];

const $ = (id) => document.getElementById(id);

const app = {
  policy: null,
  demoPolicy: null,
  accounts: null,
  session: null,
  customer: null,
  notice: null, // shown once by the landing or the login screen
  timer: null,
  renderToken: 0,
};

// ---------------------------------------------------------------------------------------
// Messages

/** Shows an error from the API; a finished session takes the prospect to the end screen. */
function showError(error) {
  if (error instanceof ApiError && error.sessionGone && (app.session || app.customer)) {
    expire(error.message);
    return;
  }
  if (error instanceof ApiError && error.code === 'demo_restriction' && app.session) {
    refusal(error.friendly);
    return;
  }
  toast(error instanceof ApiError ? error.friendly : 'Algo ha fallado. Inténtalo de nuevo.', 'error');
}

function announce(text) {
  const live = $('status-live');
  live.textContent = '';
  setTimeout(() => {
    live.textContent = text;
  }, 50);
}

function showWarning(text) {
  const box = $('warning');
  box.replaceChildren(
    el('p', null, text),
    el(
      'div',
      { class: 'warning-actions' },
      app.session?.extensions_left > 0
        ? el('button', { type: 'button', class: 'btn btn-primary btn-small', onclick: () => extend() }, 'Ampliar 30 minutos')
        : null,
      el('button', { type: 'button', class: 'btn btn-ghost btn-small', onclick: () => hideWarning() }, 'Entendido'),
    ),
  );
  box.hidden = false;
}

function hideWarning() {
  $('warning').hidden = true;
  $('warning').replaceChildren();
}

// ---------------------------------------------------------------------------------------
// The session

function saveSession() {
  try {
    if (app.session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(app.session));
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // private mode without storage: the session just does not survive a reload
  }
}

function storedSession() {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    const s = raw ? JSON.parse(raw) : null;
    return s && typeof s.session_id === 'string' ? s : null;
  } catch {
    return null;
  }
}

/** Merges an answer of demo-session (create, get or extend) into the running session. */
function applySessionView(view, extra = {}) {
  const previous = app.session || {};
  const deadline = Date.now() + Math.max(0, Number(view.seconds_left) || 0) * 1000;
  app.session = {
    ...previous,
    ...extra,
    session_id: view.session_id,
    virtual_tenant_id: view.virtual_tenant_id,
    demo_account_type: view.demo_account_type,
    status: view.status,
    expires_at: view.expires_at,
    extensions_used: view.extensions_used,
    extensions_left: view.extensions_left,
    max_extensions: view.max_extensions,
    session_token: view.session_token ?? previous.session_token,
    deadline,
    // warnings already shown for this deadline (an extension moves it: they can come again)
    warned: previous.deadline && Math.abs(previous.deadline - deadline) < 5000 ? previous.warned || [] : [],
  };
  useSession(app.session.session_id);
  saveSession();
}

function accountOf(type) {
  return (app.accounts || []).find((a) => a.account_type === type) || null;
}

async function loadAccounts() {
  if (!app.accounts) {
    const data = await get('/api/demo/accounts', { session: false });
    app.accounts = Array.isArray(data?.accounts) ? data.accounts : [];
  }
  return app.accounts;
}

async function startDemo(accountType, button) {
  const label = button?.textContent;
  if (button) {
    button.disabled = true;
    button.textContent = 'Preparando tu panadería…';
  }
  announce('Preparando tu demo. Puede tardar unos segundos.');
  try {
    const account = accountOf(accountType);
    let view = await post('/api/demo/session/create', { demo_account_type: accountType }, { session: false });
    if (view?.status === 'queued') {
      announce('Hay mucha gente probando Bakery-IA: te guardamos el turno.');
      view = await waitInLine(view, $('view'), { bakeryName: account?.name ?? '' });
    }
    app.session = null;
    applySessionView(view, { bakery_name: account?.name ?? 'Panadería demo', city: account?.city ?? '' });
    enterSession();
    announce(`Demo lista: ${app.session.bakery_name}. Tienes ${spokenTime(view.seconds_left)}.`);
    window.scrollTo(0, 0);
    if (location.hash !== '#/panel') location.hash = '#/panel';
    else route();
  } catch (error) {
    if (error instanceof LeftTheLine) {
      announce('Has salido de la cola.');
      route();
    } else {
      showError(error);
      // back from the waiting room to the bakeries
      if (!$('view').querySelector('[data-account]')) route();
    }
  } finally {
    if (button && button.isConnected) {
      button.disabled = false;
      button.textContent = label;
    }
  }
}

function enterSession() {
  app.policy = app.demoPolicy;
  decorateTabs();
  $('session-bar').hidden = false;
  $('session-extra').hidden = false;
  $('login-link').hidden = true;
  setSignupAction(() => openSignup());
  $('tabs').hidden = false;
  $('session-bakery').textContent = app.session.bakery_name || '';
  document.body.classList.add('in-session');
  updateExtendButton();
  startChecklist(app.session.session_id);
  tick();
  clearInterval(app.timer);
  app.timer = setInterval(tick, 1000);
}

function leaveSession() {
  clearInterval(app.timer);
  app.timer = null;
  app.session = null;
  useSession(null);
  saveSession();
  stopChecklist();
  hideWarning();
  setSignupAction(null);
  $('session-bar').hidden = true;
  $('session-extra').hidden = true;
  $('login-link').hidden = false;
  $('tabs').hidden = true;
  document.body.classList.remove('in-session');
}

// ---------------------------------------------------------------------------------------
// From demo to customer: sign up, start again

function openSignup() {
  if (!app.session) return;
  if (location.hash !== `#/${SIGNUP_VIEW}`) location.hash = `#/${SIGNUP_VIEW}`;
  else route();
}

/** `POST …/convert` answered 201: the demo is over, the customer's account begins. */
function converted(answer, details) {
  leaveSession();
  const kept = Object.values(answer.kept || {}).reduce((sum, n) => sum + (Number(n) || 0), 0);
  enterCustomer({
    access_token: answer.access_token,
    expires_at: answer.expires_at,
    tenant_id: answer.tenant_id,
    bakery_name: details.bakery_name,
    owner_name: details.owner_name,
    email: details.email,
  });
  toast(
    kept > 0
      ? `¡Bienvenido a Bakery-IA! Tu cuenta de ${details.bakery_name} está lista con ${qty(kept)} registros de la demo.`
      : `¡Bienvenido a Bakery-IA! Tu cuenta de ${details.bakery_name} está lista.`,
    'success',
  );
  announce(`Has entrado en tu cuenta de ${details.bakery_name}.`);
  window.scrollTo(0, 0);
  if (location.hash !== '#/panel') location.hash = '#/panel';
  else route();
}

async function resetDemo() {
  if (!app.session) return;
  const ok = await confirmDialog(
    '¿Empezar de nuevo?',
    'Tu panadería volverá a estar como al empezar la demo: se deshacen tus ventas, ajustes y pedidos. ' +
      'El tiempo que te queda y las ampliaciones no cambian.',
    'Empezar de nuevo',
  );
  if (!ok || !app.session) return;
  const button = $('reset-btn');
  button.setAttribute('aria-busy', 'true');
  button.disabled = true;
  try {
    const view = await post(`/api/demo/session/${encodeURIComponent(app.session.session_id)}/reset`);
    applySessionView(view);
    tick();
    refreshChecklist();
    toast('Listo: tu panadería vuelve a estar como al principio de la demo.', 'success');
    await route();
  } catch (error) {
    showError(error);
  } finally {
    button.removeAttribute('aria-busy');
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------
// A customer's own account

function saveCustomer() {
  try {
    if (app.customer) sessionStorage.setItem(CUSTOMER_KEY, JSON.stringify(app.customer));
    else sessionStorage.removeItem(CUSTOMER_KEY);
  } catch {
    // private mode without storage: the account just does not survive a reload
  }
}

function storedCustomer() {
  try {
    const raw = sessionStorage.getItem(CUSTOMER_KEY);
    const c = raw ? JSON.parse(raw) : null;
    return c && typeof c.access_token === 'string' ? c : null;
  } catch {
    return null;
  }
}

function enterCustomer(customer) {
  app.customer = customer;
  saveCustomer();
  useSession(null);
  useAccessToken(customer.access_token);
  app.policy = CUSTOMER_POLICY;
  decorateTabs();
  $('customer-bakery').textContent = customer.bakery_name || 'Tu panadería';
  $('customer-user').textContent = customer.owner_name || customer.email || '';
  $('customer-bar').hidden = false;
  $('login-link').hidden = true;
  $('tabs').hidden = false;
  $('tabs').setAttribute('aria-label', 'Secciones de tu cuenta');
  $('footer-note').textContent = 'Bakery-IA · gestión inteligente para panaderías.';
  document.body.classList.add('in-customer');
}

function leaveCustomer() {
  app.customer = null;
  saveCustomer();
  useAccessToken(null);
  app.policy = app.demoPolicy;
  decorateTabs();
  $('customer-bar').hidden = true;
  $('login-link').hidden = false;
  $('tabs').hidden = true;
  $('tabs').setAttribute('aria-label', 'Secciones de la demo');
  $('footer-note').textContent = FOOTER_NOTE;
  document.body.classList.remove('in-customer');
}

/** "Salir": the token is forgotten (it is not stored anywhere else), back to the landing. */
function logout() {
  if (!app.customer) return;
  leaveCustomer();
  toast('Has salido de tu cuenta.', 'info');
  if (location.hash !== '#/') location.hash = '#/';
  else route();
}

/** The access token is no longer accepted (`401`): back to the landing, saying why. */
function customerGone(message) {
  leaveCustomer();
  app.notice = message && !/demo/i.test(message)
    ? `${message} Vuelve a entrar con tu correo y tu contraseña.`
    : 'Tu sesión ha caducado. Vuelve a entrar con tu correo y tu contraseña.';
  if (location.hash !== '#/') location.hash = '#/';
  else route();
}

/** "Entrar" answered: a customer's token, or a demo session (the published accounts). */
function loggedIn(answer) {
  enterCustomer({
    access_token: answer.access_token,
    expires_at: new Date(Date.now() + (Number(answer.expires_in) || 3600) * 1000).toISOString(),
    tenant_id: answer.tenant?.id,
    bakery_name: answer.tenant?.name,
    owner_name: answer.user?.full_name,
    email: answer.user?.email,
  });
  announce(`Has entrado en tu cuenta de ${answer.tenant?.name ?? 'Bakery-IA'}.`);
  if (location.hash !== '#/panel') location.hash = '#/panel';
  else route();
}

async function demoFromLogin(session, account) {
  if (session?.status === 'queued') {
    // the demos are all taken: the login's place in line
    try {
      session = await waitInLine(session, $('view'), { bakeryName: account?.name ?? '' });
    } catch (error) {
      if (!(error instanceof LeftTheLine)) showError(error);
      route();
      return;
    }
  }
  app.session = null;
  applySessionView(session, { bakery_name: account?.name ?? 'Panadería demo', city: account?.city ?? '' });
  enterSession();
  announce(`Demo lista: ${app.session.bakery_name}. Tienes ${spokenTime(session.seconds_left)}.`);
  if (location.hash !== '#/panel') location.hash = '#/panel';
  else route();
}

function secondsLeft() {
  return app.session ? Math.max(0, Math.ceil((app.session.deadline - Date.now()) / 1000)) : 0;
}

function tick() {
  if (!app.session) return;
  const left = secondsLeft();
  $('countdown-value').textContent = clock(left);
  const countdown = $('countdown');
  countdown.setAttribute('aria-label', `Tiempo restante de la demo: ${spokenTime(left)}`);
  countdown.classList.toggle('countdown-warn', left <= 300 && left > 60);
  countdown.classList.toggle('countdown-urgent', left <= 60);
  for (const w of WARNINGS) {
    if (left <= w.at && left > 0 && !app.session.warned.includes(w.at)) {
      app.session.warned.push(...WARNINGS.filter((x) => x.at >= w.at).map((x) => x.at));
      saveSession();
      showWarning(w.text);
      break;
    }
  }
  if (left <= 0) checkExpiry();
}

let checkingExpiry = false;
/** The countdown reached zero: ask demo-session (the truth) before saying it is over. */
async function checkExpiry() {
  if (checkingExpiry || !app.session) return;
  checkingExpiry = true;
  try {
    const view = await get(`/api/demo/session/${encodeURIComponent(app.session.session_id)}`, { session: false });
    if (view && Number(view.seconds_left) > 0 && view.status === 'ready') {
      applySessionView(view);
      return;
    }
    expire();
  } catch (error) {
    expire(error instanceof ApiError && error.sessionGone ? error.message : undefined);
  } finally {
    checkingExpiry = false;
  }
}

function updateExtendButton() {
  const button = $('extend-btn');
  const s = app.session;
  if (!s) return;
  const left = Number(s.extensions_left) || 0;
  button.replaceChildren(
    el('span', { class: 'label-long' }, 'Ampliar 30 minutos'),
    el('span', { class: 'label-short', 'aria-hidden': 'true' }, '+30 min'),
    el('span', { class: 'extend-count' }, left === 1 ? ' (queda 1)' : ` (quedan ${left})`),
    // phones: the count stays visible next to the short label
    el('span', { class: 'extend-count-short', 'aria-hidden': 'true' }, String(left)),
  );
  // the session API itself is public: only the extensions left can stop an extension
  const reason = left <= 0 ? `Ya has usado las ${s.max_extensions ?? 3} ampliaciones de esta demo.` : null;
  setDisabled(button, reason);
}

async function extend() {
  const button = $('extend-btn');
  if (!app.session || refused(button)) return;
  button.setAttribute('aria-busy', 'true');
  try {
    const view = await post(`/api/demo/session/${encodeURIComponent(app.session.session_id)}/extend`, undefined, {
      session: false,
    });
    applySessionView(view);
    hideWarning();
    tick();
    toast(`Demo ampliada: te quedan ${spokenTime(view.seconds_left)}.`, 'success');
  } catch (error) {
    if (error instanceof ApiError && error.status === 409 && app.session) {
      app.session.extensions_left = 0;
      saveSession();
    }
    showError(error);
  } finally {
    button.removeAttribute('aria-busy');
    updateExtendButton();
  }
}

function confirmDialog(title, text, confirmLabel) {
  return new Promise((resolve) => {
    const dialog = el(
      'dialog',
      { class: 'dialog', 'aria-labelledby': 'confirm-title' },
      el(
        'form',
        { method: 'dialog' },
        el('h2', { id: 'confirm-title' }, title),
        el('p', null, text),
        el(
          'div',
          { class: 'dialog-actions' },
          el('button', { type: 'submit', value: 'cancel', class: 'btn btn-ghost' }, 'Seguir con la demo'),
          el('button', { type: 'submit', value: 'ok', class: 'btn btn-danger' }, confirmLabel),
        ),
      ),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

async function endDemo() {
  if (!app.session) return;
  const ok = await confirmDialog(
    '¿Terminar la demo?',
    'Se borrarán ahora mismo todos los datos de esta sesión: ventas, ajustes y pedidos que hayas hecho.',
    'Terminar demo',
  );
  if (!ok || !app.session) return;
  const { session_id: id, demo_account_type: type, bakery_name: name } = app.session;
  try {
    await del(`/api/demo/session/${encodeURIComponent(id)}`, { session: false });
  } catch (error) {
    // already over: that is what the prospect wanted
    if (!(error instanceof ApiError && (error.sessionGone || error.status === 404))) {
      showError(error);
      return;
    }
  }
  leaveSession();
  renderEnded({
    title: 'Demo terminada',
    text: `Hemos borrado todos los datos de tu sesión en ${name}. ¡Gracias por probar Bakery-IA!`,
    accountType: type,
  });
}

/** The session is over (ended elsewhere, expired, or the countdown reached zero). */
function expire(message) {
  if (app.customer && !app.session) {
    customerGone(message);
    return;
  }
  if (!app.session) return;
  const { demo_account_type: type } = app.session;
  leaveSession();
  renderEnded({
    title: 'Tu demo ha caducado',
    text: message || 'El tiempo de esta demo ha terminado y sus datos se han borrado. Puedes empezar una nueva cuando quieras.',
    accountType: type,
    expired: true,
  });
}

// ---------------------------------------------------------------------------------------
// Screens outside a session

function renderEnded({ title, text, accountType, expired = false }) {
  const view = $('view');
  const account = accountOf(accountType);
  app.showingEnded = true;
  const again = el(
    'button',
    {
      type: 'button',
      class: 'btn btn-primary',
      onclick: (e) => startDemo(accountType || 'individual_bakery', e.currentTarget),
    },
    'Empezar una nueva demo',
  );
  view.replaceChildren(
    el(
      'section',
      { class: ['panel', 'ended', expired ? 'ended-expired' : ''], 'aria-labelledby': 'ended-title' },
      icon(expired ? 'hourglass' : 'check', 'ended-icon'),
      el('h1', { id: 'ended-title', tabindex: '-1' }, title),
      el('p', { class: 'lead' }, text),
      account ? el('p', { class: 'muted' }, `La nueva demo será otra copia limpia de ${account.name}.`) : null,
      el(
        'div',
        { class: 'actions' },
        again,
        el('a', { class: 'btn btn-ghost', href: '#/' }, 'Elegir otra panadería'),
      ),
    ),
  );
  view.setAttribute('aria-busy', 'false');
  if (location.hash && location.hash !== '#/fin') history.replaceState(null, '', '#/fin');
  document.title = `${title} · Bakery-IA`;
  $('ended-title').focus();
}

const MODEL_LABELS = {
  individual_bakery: 'Panadería con obrador propio',
  central_baker_satellite: 'Punto de venta de obrador central',
};

async function renderLanding() {
  const view = $('view');
  document.title = 'Bakery-IA · Prueba la demo';
  let accounts = [];
  let failure = null;
  try {
    accounts = await loadAccounts();
  } catch (error) {
    failure = error;
  }
  const cards = accounts.map((a) =>
    el(
      'article',
      { class: ['account', `account-${a.account_type}`], 'aria-labelledby': `acc-${a.account_type}` },
      el(
        'div',
        { class: 'account-head' },
        el('span', { class: 'account-model' }, MODEL_LABELS[a.business_model] ?? a.business_model),
        el('h2', { id: `acc-${a.account_type}` }, a.name),
        el('p', { class: 'account-place' }, a.location || a.city),
      ),
      el('p', { class: 'account-desc' }, a.description),
      el('ul', { class: 'features' }, (a.features || []).map((f) => el('li', null, f))),
      el(
        'button',
        {
          type: 'button',
          class: 'btn btn-primary btn-large',
          'data-account': a.account_type,
          'aria-describedby': `acc-${a.account_type}`,
          onclick: (e) => startDemo(a.account_type, e.currentTarget),
        },
        'Probar demo',
      ),
    ),
  );
  const notice = app.notice;
  app.notice = null;
  view.replaceChildren(
    notice ? el('div', { class: 'panel notice notice-info', role: 'alert', id: 'landing-notice' }, el('p', null, notice)) : '',
    el(
      'section',
      { class: 'hero', 'aria-labelledby': 'hero-title' },
      el('p', { class: 'eyebrow' }, 'Demo gratuita · sin registro · 30 minutos'),
      el('h1', { id: 'hero-title' }, 'Prueba Bakery-IA con una panadería de verdad'),
      el(
        'p',
        { class: 'lead' },
        'Elige una de nuestras dos panaderías de ejemplo y te preparamos al instante una copia privada solo para ti: ' +
          'inventario, recetas escandalladas, pedidos, punto de venta y sus ventas de los últimos 90 días. ' +
          'Cuando terminas, todo se borra.',
      ),
    ),
    failure
      ? el(
          'div',
          { class: 'panel notice notice-error', role: 'alert' },
          el('p', null, failure instanceof ApiError ? failure.friendly : 'No hemos podido cargar las demos.'),
          el('button', { type: 'button', class: 'btn btn-secondary', onclick: () => route() }, 'Reintentar'),
        )
      : el('div', { class: 'accounts' }, cards),
    el(
      'section',
      { class: 'how', 'aria-labelledby': 'how-title' },
      el('h2', { id: 'how-title' }, 'Cómo funciona'),
      el(
        'ol',
        { class: 'steps' },
        el('li', null, el('strong', null, 'Eliges panadería. '), 'Creamos una copia aislada con sus datos reales de ejemplo.'),
        el('li', null, el('strong', null, 'Pruebas sin miedo. '), 'Vende en el TPV, ajusta existencias, haz pedidos: nadie más ve tus cambios.'),
        el('li', null, el('strong', null, 'Se borra sola. '), 'A los 30 minutos (ampliables) la demo y sus datos desaparecen.'),
      ),
    ),
    el(
      'section',
      { class: 'panel landing-login', 'aria-labelledby': 'landing-login-title' },
      el('div', null, el('h2', { id: 'landing-login-title' }, '¿Ya tienes cuenta?'), el('p', { class: 'muted' }, 'Entra con tu correo y tu contraseña, o con los accesos públicos de las demos.')),
      el('a', { class: 'btn btn-secondary', href: `#/${LOGIN_VIEW}` }, 'Entrar'),
    ),
  );
  view.setAttribute('aria-busy', 'false');
}

// ---------------------------------------------------------------------------------------
// Router

const DEFAULT_VIEW = 'panel';

function currentView() {
  const name = location.hash.replace(/^#\/?/, '').split('?')[0];
  return name || null;
}

async function renderLoginScreen() {
  const view = $('view');
  document.title = 'Entrar · Bakery-IA';
  await loadAccounts().catch(() => {});
  const notice = app.notice;
  app.notice = null;
  view.replaceChildren(
    renderLogin({
      accounts: app.accounts,
      notice,
      onCustomer: loggedIn,
      onDemo: demoFromLogin,
    }),
  );
  view.setAttribute('aria-busy', 'false');
}

function renderSignupScreen() {
  const view = $('view');
  for (const a of document.querySelectorAll('#tabs a')) a.removeAttribute('aria-current');
  document.title = `Crear mi cuenta · ${app.session.bakery_name} · Bakery-IA`;
  view.replaceChildren(
    renderSignup({
      session: app.session,
      onDone: converted,
      onLoggedIn: (answer) => {
        leaveSession();
        loggedIn(answer);
      },
      onGone: (error) => expire(error.message),
    }),
  );
  view.setAttribute('aria-busy', 'false');
  signupStarted();
  $('signup-title')?.focus();
}

async function route() {
  const token = ++app.renderToken;
  const name = currentView();
  if (!app.session && !app.customer) {
    if (name === 'fin' && app.showingEnded) return; // the end screen stays until the prospect moves on
    app.showingEnded = false;
    for (const a of document.querySelectorAll('#tabs a')) a.removeAttribute('aria-current');
    if (name === LOGIN_VIEW) await renderLoginScreen();
    else await renderLanding();
    return;
  }
  app.showingEnded = false;
  if (app.session && name === SIGNUP_VIEW) {
    renderSignupScreen();
    return;
  }
  const viewName = name && VIEWS[name] ? name : DEFAULT_VIEW;
  if (viewName !== name) {
    history.replaceState(null, '', `#/${viewName}`);
  }
  for (const a of document.querySelectorAll('#tabs a')) {
    if (a.dataset.view === viewName) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const view = $('view');
  view.setAttribute('aria-busy', 'true');
  const spec = VIEWS[viewName];
  const customer = app.customer && !app.session ? app.customer : null;
  document.title = customer
    ? `${spec.title} · ${customer.bakery_name || 'Tu panadería'} · Bakery-IA`
    : `${spec.title} · ${app.session.bakery_name} · Bakery-IA demo`;
  const ctx = customer
    ? {
        session: { bakery_name: customer.bakery_name || 'tu panadería' },
        account: null,
        customer,
        policy: app.policy,
        showError,
        refresh: () => route(),
        progress: () => {},
        stale: () => token !== app.renderToken || app.customer !== customer,
      }
    : {
        session: app.session,
        account: accountOf(app.session.demo_account_type),
        policy: app.policy,
        showError,
        refresh: () => route(),
        // a write the checklist counts (sale, order, adjustment) went through
        progress: (item) => refreshChecklist({ expect: item }),
        stale: () => token !== app.renderToken || !app.session,
      };
  try {
    await useBakeryClock(ctx);
    const content = await spec.render(ctx);
    if (ctx.stale()) return;
    view.replaceChildren(content);
    if (!customer) {
      screenViewed(viewName);
      // the recipes (with their costs) were just read: the gateway ticks "escandallo"
      if (viewName === 'productos') refreshChecklist({ expect: 'recipe_costing' });
    }
  } catch (error) {
    if (ctx.stale()) return;
    if (error instanceof ApiError && error.sessionGone) {
      expire(error.message);
      return;
    }
    view.replaceChildren(
      el(
        'section',
        { class: 'panel notice notice-error', role: 'alert' },
        el('h1', null, spec.title),
        el('p', null, error instanceof ApiError ? error.friendly : 'No hemos podido cargar esta pantalla.'),
        el('button', { type: 'button', class: 'btn btn-secondary', onclick: () => route() }, 'Reintentar'),
      ),
    );
  }
  view.setAttribute('aria-busy', 'false');
}

function decorateTabs() {
  // screens the policy blocks entirely (forecasts) are marked as unavailable (not for a customer)
  for (const a of document.querySelectorAll('#tabs a')) {
    const spec = VIEWS[a.dataset.view];
    if (spec?.probe && !app.policy.allows('GET', spec.probe)) {
      a.classList.add('tab-locked');
      a.title = 'No disponible en la demo';
      if (!a.querySelector('.lock')) a.append(icon('lock', 'lock'), el('span', { class: 'sr-only tab-lock-note' }, ' (no disponible en la demo)'));
    } else {
      a.classList.remove('tab-locked');
      a.removeAttribute('title');
      for (const extra of a.querySelectorAll('.lock, .tab-lock-note')) extra.remove();
    }
  }
}

async function init() {
  if (location.pathname.replace(/\/+$/, '') === '/admin') {
    // the operator view: same page, no demo session
    const { renderAdmin } = await import('./admin.js');
    renderAdmin($('view'));
    return;
  }
  $('extend-btn').addEventListener('click', () => extend());
  $('end-btn').addEventListener('click', () => endDemo());
  $('signup-cta').addEventListener('click', () => openSignup());
  $('reset-btn').addEventListener('click', () => resetDemo());
  $('logout-btn').addEventListener('click', () => logout());
  window.addEventListener('hashchange', () => {
    window.scrollTo(0, 0);
    route();
    $('main').focus({ preventScroll: true });
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') hideWarning();
  });

  app.demoPolicy = await loadPolicy();
  app.policy = app.demoPolicy;
  decorateTabs();
  loadAccounts().catch(() => {});
  $('login-link').hidden = false;

  const customer = storedCustomer();
  const stored = customer ? null : storedSession();
  if (customer) {
    if (Date.parse(customer.expires_at) <= Date.now()) {
      customerGone();
    } else {
      enterCustomer(customer);
      try {
        // the account as tenant-service sees it (its name may have changed)
        const me = await get('/api/tenants/me');
        if (me?.name && app.customer) {
          app.customer.bakery_name = me.name;
          saveCustomer();
          $('customer-bakery').textContent = me.name;
        }
      } catch (error) {
        if (error instanceof ApiError && error.sessionGone) {
          customerGone();
          return;
        }
      }
    }
  }
  if (stored) {
    app.session = stored;
    useSession(stored.session_id);
    try {
      // the truth about time left and extensions, after a reload
      const view = await get(`/api/demo/session/${encodeURIComponent(stored.session_id)}`, { session: false });
      if (view.status !== 'ready' || Number(view.seconds_left) <= 0) throw new ApiError(401, 'session_expired', '');
      applySessionView(view);
      await loadAccounts().catch(() => {});
      enterSession();
    } catch (error) {
      if (error instanceof ApiError && (error.sessionGone || error.status === 404 || error.status === 401)) {
        expire(error.message || undefined);
        return;
      }
      // demo-session unreachable: keep the stored deadline and carry on
      enterSession();
    }
  }
  await route();
}

init();
