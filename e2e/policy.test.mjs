// The page's copy of the demo policy matcher (crates/gateway/static/policy.js) decides the
// same as the gateway's (crates/gateway/src/policy.rs): the cases of its Rust tests.
// No browser needed.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Policy } from '../crates/gateway/static/policy.js';

// crates/gateway/policy/default.toml, as `GET /api/demo/policy` serves it
const DEFAULT = {
  message: 'Esta operación no está permitida en cuentas demo. Crea una cuenta para usar todas las funciones.',
  deny: [{ methods: ['*'], path: '/api/forecasts/**' }],
  allow: [
    { methods: ['GET', 'HEAD'], path: '/**' },
    { methods: ['POST'], path: '/api/pos/sales' },
    { methods: ['POST'], path: '/api/orders' },
    { methods: ['POST'], path: '/api/inventory/adjustments' },
  ],
};

describe('demo policy on the page', () => {
  it('matches the default policy like the gateway', () => {
    const p = new Policy(DEFAULT);
    for (const [method, path] of [
      ['GET', '/api/inventory/ingredients'],
      ['GET', '/api/tenants/me'],
      ['HEAD', '/api/products'],
      ['POST', '/api/pos/sales'],
      ['POST', '/api/orders'],
      ['POST', '/api/inventory/adjustments'],
      ['GET', '/api/inventory/stock-lots?expiring_within_days=3'],
      ['post', '/API/Orders'],
    ]) {
      assert.equal(p.allows(method, path), true, `${method} ${path}`);
    }
    for (const [method, path] of [
      ['GET', '/api/forecasts'],
      ['GET', '/api/forecasts/run'],
      ['GET', '/api/forecasts/models'],
      ['POST', '/api/forecasts'],
      ['POST', '/api/pos/sales/1'],
      ['POST', '/api/orders/1/cancel'],
      ['POST', '/api/production/batches'],
      ['POST', '/api/inventory/ingredients'],
      ['PUT', '/api/orders'],
      ['PATCH', '/api/inventory/adjustments'],
      ['DELETE', '/api/orders'],
      ['OPTIONS', '/api/orders'],
      ['TRACE', '/api/orders'],
      ['delete', '/api/orders'],
    ]) {
      assert.equal(p.allows(method, path), false, `${method} ${path}`);
    }
    assert.match(p.message, /^Esta operación no está permitida en cuentas demo/);
  });

  it('handles one-segment wildcards and any method', () => {
    const p = new Policy({ message: 'no', allow: [{ methods: ['*'], path: '/api/*/x' }] });
    assert.equal(p.allows('PUT', '/api/a/x'), true);
    assert.equal(p.allows('PUT', '/api/a/y'), false);
    assert.equal(p.allows('PUT', '/api/a/x/z'), false);
    assert.equal(p.allows('GET', '/api/x'), false);
  });
});
