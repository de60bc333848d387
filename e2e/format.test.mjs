// The page's calendar helpers (crates/gateway/static/format.js) that decide what the point of
// sale offers: a seasonal sweet only on the days of its season, which may run over New Year.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { inSeason, seasonLabel } from '../crates/gateway/static/format.js';

const roscon = { name: 'Roscón de Reyes', season: { from: '12-20', to: '01-06' } };
const huesos = { name: 'Huesos de santo', season: { from: '10-22', to: '11-02' } };
const barra = { name: 'Barra de pan', season: null };

describe('seasons', () => {
  it('offers a sweet on the days of its season, both ends included', () => {
    for (const day of ['2026-10-22', '2026-11-01', '2026-11-02']) assert.ok(inSeason(huesos, day), day);
    for (const day of ['2026-10-21', '2026-11-03', '2026-12-01']) assert.ok(!inSeason(huesos, day), day);
  });

  it('lets a season run over New Year', () => {
    for (const day of ['2026-12-20', '2026-12-31', '2027-01-01', '2027-01-06']) assert.ok(inSeason(roscon, day), day);
    for (const day of ['2026-12-19', '2027-01-07', '2027-07-15']) assert.ok(!inSeason(roscon, day), day);
  });

  it('offers a product without a season all year', () => {
    for (const day of ['2026-01-01', '2026-08-15', '2026-12-31']) assert.ok(inSeason(barra, day), day);
  });

  it('says a season in Spanish', () => {
    assert.equal(seasonLabel(roscon.season), '20 dic – 6 ene');
  });
});
