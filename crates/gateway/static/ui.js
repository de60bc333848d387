// Shared bits of the interface: toasts, and controls disabled with a reason.

import { el } from './format.js';

/** A short message at the corner; errors stay until closed, others fade. */
export function toast(text, kind = 'info') {
  const box = el(
    'div',
    { class: ['toast', `toast-${kind}`], role: kind === 'error' ? 'alert' : 'status' },
    el('p', null, text),
    el('button', { type: 'button', class: 'toast-close', 'aria-label': 'Cerrar aviso', onclick: () => box.remove() }, '×'),
  );
  document.getElementById('toasts').append(box);
  if (kind !== 'error') setTimeout(() => box.remove(), 6000);
  return box;
}

/**
 * Disables a control with a reason: `aria-disabled` (it stays focusable, so keyboard users
 * reach the tooltip), the reason as its tooltip and description.
 */
export function setDisabled(control, reason) {
  control.classList.toggle('is-disabled', Boolean(reason));
  if (reason) {
    control.setAttribute('aria-disabled', 'true');
    control.dataset.tip = reason;
    control.title = reason;
  } else {
    control.removeAttribute('aria-disabled');
    delete control.dataset.tip;
    control.removeAttribute('title');
  }
}

/**
 * A button the policy may forbid: disabled with the policy's reason when it does, and a
 * click (or Enter) on it then explains why instead of doing anything.
 */
export function policyButton(policy, label, method, path, attrs = {}) {
  const button = el('button', { type: 'button', class: 'btn btn-secondary', ...attrs }, label);
  if (!policy.allows(method, path)) setDisabled(button, policy.message);
  button.addEventListener('click', (e) => {
    if (refused(button)) e.stopImmediatePropagation();
  });
  return button;
}

/** Whether a click should be ignored (the control is disabled) and says why. */
export function refused(control) {
  if (control.getAttribute('aria-disabled') === 'true') {
    toast(control.dataset.tip || 'Esta acción no está disponible.', 'info');
    return true;
  }
  return false;
}

