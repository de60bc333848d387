// How the page words an error answer (crates/gateway/static/api.js): the server's Spanish
// message, plus when to retry where waiting helps. No browser needed: fetch is stubbed.

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { ApiError, post } from '../crates/gateway/static/api.js';

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

/** The next fetch answers `status` with a JSON `body` and `headers`. */
function answer(status, body, headers = {}) {
  globalThis.fetch = async () => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

describe('error answers on the page', () => {
  it('shows a demo write quota kindly: its message and when to retry', async () => {
    const message = 'Has hecho muchos cambios seguidos en esta demo. Espera un momento y vuelve a intentarlo.';
    answer(429, { error: 'demo_quota', message }, { 'Retry-After': '42' });
    const error = await post('/api/inventory/adjustments', { quantity_delta: 1 }).catch((e) => e);
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 429);
    assert.equal(error.code, 'demo_quota');
    assert.equal(error.friendly, `${message} Podrás reintentarlo en 42 s.`);
  });

  it('does not promise a retry for the row quota, which waiting does not lift', async () => {
    const message = 'Esta demo ya ha creado el máximo permitido de ventas. Para seguir probando, reinicia la demo o crea tu cuenta.';
    answer(429, { error: 'demo_quota', message }, { 'Retry-After': '3600' });
    const error = await post('/api/pos/sales', { lines: [] }).catch((e) => e);
    assert.equal(error.friendly, message);
  });

  it('tells when to come back after a 503', () => {
    const error = new ApiError(503, 'unavailable', 'El servicio no está disponible en este momento. Inténtalo de nuevo.', '2');
    assert.equal(error.friendly, 'El servicio no está disponible en este momento. Inténtalo de nuevo. Podrás reintentarlo en 2 s.');
  });

  it('falls back to a Spanish message when the answer has none', async () => {
    answer(429, {});
    const error = await post('/api/orders', {}).catch((e) => e);
    assert.equal(error.message, 'Demasiadas peticiones seguidas. Espera un momento y vuelve a intentarlo.');
  });
});
