/**
 * The waiting room. At the cap, `POST /api/demo/session/create` answers a place in line
 * (`202`, `status: "queued"`); the page shows the position and the estimated wait, asks
 * `GET /api/demo/queue/{token}` every `poll_after_seconds` (a place not asked about for
 * 30 s is given up), and carries on by itself when the answer is the session.
 */
import { ApiError, get } from './api.js';
import { el } from './format.js';

/** The prospect left the line ("Salir de la cola"). */
export class LeftTheLine extends Error {}

/** "unos 40 segundos", "unos 3 minutos". */
export function aboutHowLong(seconds) {
  const s = Math.max(1, Math.round(Number(seconds) || 0));
  if (s < 90) return `unos ${s} segundos`;
  const minutes = Math.round(s / 60);
  return minutes === 1 ? 'un minuto' : `unos ${minutes} minutos`;
}

export function waitingText(place) {
  if (!place.queue_position) return 'Ya es tu turno: estamos preparando tu panadería…';
  return `Hay mucha gente probando Bakery-IA ahora mismo: estás en la posición ${place.queue_position} (${aboutHowLong(place.estimated_wait_seconds)}).`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Shows `place` in `container` and waits in line; resolves with the session (an answer
 * like create's `201`), rejects with the API's error, or with `LeftTheLine`.
 */
export async function waitInLine(place, container, { bakeryName = '' } = {}) {
  let left = false;
  const text = el('p', { class: 'waiting-text', id: 'waiting-text' }, waitingText(place));
  const leave = el(
    'button',
    {
      type: 'button',
      class: 'btn btn-ghost',
      id: 'leave-line',
      onclick: () => {
        left = true;
      },
    },
    'Salir de la cola',
  );
  container.replaceChildren(
    el(
      'section',
      { class: 'panel waiting-room', id: 'waiting-room', 'aria-labelledby': 'waiting-title' },
      el('h1', { id: 'waiting-title' }, 'Tu demo está en camino'),
      bakeryName ? el('p', { class: 'waiting-bakery' }, bakeryName) : null,
      el('div', { role: 'status', 'aria-live': 'polite' }, text),
      el('div', { class: 'waiting-bar', 'aria-hidden': 'true' }, el('span')),
      el('p', { class: 'muted' }, 'No cierres esta página: seguirás en cuanto quede una demo libre.'),
      leave,
    ),
  );
  let failures = 0;
  for (;;) {
    await sleep(Math.max(1, Number(place.poll_after_seconds) || 2) * 1000);
    if (left) throw new LeftTheLine();
    let answer;
    try {
      answer = await get(`/api/demo/queue/${encodeURIComponent(place.queue_token)}`, { session: false });
      failures = 0;
    } catch (error) {
      // a place survives 30 s without a poll: a few lost answers are retried
      if (error instanceof ApiError && error.status < 500) throw error;
      if (++failures >= 5) throw error;
      continue;
    }
    if (left) throw new LeftTheLine();
    if (answer?.status !== 'queued') return answer;
    place = answer;
    text.textContent = waitingText(place);
  }
}
