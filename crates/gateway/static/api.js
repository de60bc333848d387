// Calls to the gateway: JSON in, JSON out, and every failure turned into an ApiError that
// carries a friendly Spanish message (the envelope's `message` when there is one), never
// raw JSON.

const GENERIC = {
  network: 'No podemos conectar con Bakery-IA. Comprueba tu conexión e inténtalo de nuevo.',
  400: 'La petición no es válida.',
  401: 'Tu sesión demo ha terminado. Puedes empezar una nueva cuando quieras.',
  403: 'Esta operación no está permitida en cuentas demo.',
  404: 'No encontramos lo que buscabas.',
  409: 'No se ha podido completar la operación ahora mismo.',
  413: 'Los datos enviados son demasiado grandes.',
  422: 'Revisa los datos: alguno no es válido.',
  429: 'Demasiadas peticiones seguidas. Espera un momento y vuelve a intentarlo.',
  502: 'El servicio no está disponible en este momento. Inténtalo de nuevo.',
  503: 'Ahora mismo hay mucha demanda. Vuelve a intentarlo en unos minutos.',
  504: 'El servicio ha tardado demasiado en responder. Inténtalo de nuevo.',
  500: 'Algo ha fallado por nuestra parte. Inténtalo de nuevo en unos momentos.',
};

/** An answer that was not a success, with what to tell the prospect. */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null, withToken = false) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.withToken = withToken;
  }

  /**
   * The session this request ran in is over: a demo's (ended, expired or unknown), or a
   * customer's access token that is no longer accepted (any `401` of a call that sent it).
   */
  get sessionGone() {
    return this.status === 401 && (/^session_/.test(this.code) || this.withToken);
  }

  /** The message plus, when the server said when, a hint of when to retry. */
  get friendly() {
    const wait = Number(this.retryAfter);
    if ((this.status === 429 || this.status === 503) && Number.isFinite(wait) && wait > 0 && !this.waitingWontHelp) {
      return `${this.message} ${retryHint(wait)}`;
    }
    return this.message;
  }

  /**
   * A demo's row quota (`demo_quota` with a Retry-After of an hour) does not pass by waiting
   * a little: its message says what to do instead. The per-minute write quota does.
   */
  get waitingWontHelp() {
    return this.code === 'demo_quota' && Number(this.retryAfter) >= 3600;
  }
}

function retryHint(seconds) {
  if (seconds < 90) return `Podrás reintentarlo en ${Math.ceil(seconds)} s.`;
  return `Podrás reintentarlo en unos ${Math.ceil(seconds / 60)} minutos.`;
}

function genericMessage(status) {
  return GENERIC[status] ?? (status >= 500 ? GENERIC[500] : GENERIC[400]);
}

let demoSessionId = null;
let accessToken = null;

/** From now on every call carries `X-Demo-Session-Id` (or none, with `null`). */
export function useSession(id) {
  demoSessionId = id;
}

/** From now on every call carries a customer's `Authorization: Bearer` (or none, with `null`). */
export function useAccessToken(token) {
  accessToken = token;
}

/**
 * `method path` with an optional JSON `body` (and extra `headers`, e.g. `X-Admin-Key`). Resolves to the parsed answer (or null when
 * empty); rejects with an ApiError.
 */
export async function request(method, path, body, { session = true, headers: extra = {} } = {}) {
  const headers = { Accept: 'application/json', ...extra };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (session && demoSessionId) headers['X-Demo-Session-Id'] = demoSessionId;
  const withToken = Boolean(session && accessToken);
  if (withToken) headers.Authorization = `Bearer ${accessToken}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ApiError(0, 'network', GENERIC.network);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const code = data && typeof data.error === 'string' ? data.error : `http_${response.status}`;
    const message =
      data && typeof data.message === 'string' && data.message.trim()
        ? data.message
        : genericMessage(response.status);
    throw new ApiError(response.status, code, message, response.headers.get('Retry-After'), withToken);
  }
  return data;
}

export const get = (path, options) => request('GET', path, undefined, options);
export const post = (path, body, options) => request('POST', path, body ?? {}, options);
export const put = (path, body, options) => request('PUT', path, body ?? {}, options);
export const del = (path, options) => request('DELETE', path, undefined, options);

/**
 * Every item of a paginated list (`{"items", "limit", "offset", "total"}`), page by page:
 * after the page's `next_cursor` when the list has one (sales: keyset pages), else by
 * `offset`.
 */
export async function getAll(path, { pageSize = 200, maxPages = 20 } = {}) {
  const items = [];
  const sep = path.includes('?') ? '&' : '?';
  let from = 'offset=0';
  for (let page = 0; page < maxPages; page += 1) {
    const data = await get(`${path}${sep}limit=${pageSize}&${from}`);
    const batch = Array.isArray(data?.items) ? data.items : [];
    items.push(...batch);
    if (batch.length === 0) break;
    if (data && 'next_cursor' in data) {
      if (typeof data.next_cursor !== 'string') break;
      from = `after=${encodeURIComponent(data.next_cursor)}`;
      continue;
    }
    const total = Number(data?.total ?? items.length);
    if (items.length >= total) break;
    from = `offset=${(page + 1) * pageSize}`;
  }
  return items;
}
