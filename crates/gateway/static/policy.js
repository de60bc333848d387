// The demo policy (`GET /api/demo/policy`), matched exactly as the gateway matches it
// (crates/gateway/src/policy.rs): `deny` rules first, then `allow`; anything else is
// refused. `*` matches one path segment, a trailing `/**` the path and everything below;
// methods and paths are case-insensitive. The page uses it to hide or disable what the
// gateway would refuse, so it never offers an action that ends in a 403.

import { get } from './api.js';

// The contract's default, used only if the policy cannot be loaded.
const FALLBACK = {
  message:
    'Esta operación no está permitida en cuentas demo. Crea una cuenta para usar todas las funciones.',
  deny: [{ methods: ['*'], path: '/api/forecasts/**' }],
  allow: [
    { methods: ['GET', 'HEAD'], path: '/**' },
    { methods: ['POST'], path: '/api/pos/sales' },
    { methods: ['POST'], path: '/api/orders' },
    { methods: ['POST'], path: '/api/inventory/adjustments' },
  ],
};

function compile(rule) {
  let base = String(rule.path || '');
  const subtree = base.endsWith('/**');
  if (subtree) base = base.slice(0, -3);
  const methods = (rule.methods || []).map((m) => String(m).toUpperCase());
  return {
    anyMethod: methods.includes('*'),
    methods,
    segments: base.split('/').slice(1).filter(Boolean).map((s) => s.toLowerCase()),
    subtree,
  };
}

function matches(rule, method, path) {
  if (!rule.anyMethod && !rule.methods.includes(method)) return false;
  const parts = path.split('/').slice(1).filter(Boolean);
  for (let i = 0; i < rule.segments.length; i += 1) {
    const pattern = rule.segments[i];
    if (i >= parts.length || (pattern !== '*' && pattern !== parts[i])) return false;
  }
  return rule.subtree || parts.length === rule.segments.length;
}

export class Policy {
  constructor(document) {
    this.message = document.message || FALLBACK.message;
    this.deny = (document.deny || []).map(compile);
    this.allow = (document.allow || []).map(compile);
  }

  /** Whether a demo session may call `method path` (path without the query string). */
  allows(method, path) {
    const m = method.toUpperCase();
    const p = path.split('?')[0].toLowerCase();
    if (this.deny.some((r) => matches(r, m, p))) return false;
    return this.allow.some((r) => matches(r, m, p));
  }
}

export async function loadPolicy() {
  try {
    return new Policy(await get('/api/demo/policy', { session: false }));
  } catch {
    return new Policy(FALLBACK);
  }
}
