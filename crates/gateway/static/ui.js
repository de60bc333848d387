// Shared bits of the interface: toasts, and controls disabled with a reason.

import { el } from './format.js';

/** A short message at the corner; errors stay until closed, others fade. `action`: a button. */
export function toast(text, kind = 'info', action = null) {
  const box = el(
    'div',
    { class: ['toast', `toast-${kind}`], role: kind === 'error' ? 'alert' : 'status' },
    el('p', null, text),
    action
      ? el(
          'button',
          {
            type: 'button',
            class: 'btn btn-light btn-small toast-action',
            onclick: () => {
              box.remove();
              action.onclick();
            },
          },
          action.label,
        )
      : null,
    el('button', { type: 'button', class: 'toast-close', 'aria-label': 'Cerrar aviso', onclick: () => box.remove() }, '×'),
  );
  document.getElementById('toasts').append(box);
  if (kind !== 'error') setTimeout(() => box.remove(), action ? 12000 : 6000);
  return box;
}

// What "Crear mi cuenta" does in a demo (app.js sets it; null outside a demo).
let signupAction = null;

/** Every refusal of the demo policy offers "Crear mi cuenta" while `action` is set. */
export function setSignupAction(action) {
  signupAction = action;
}

/** The "Crear mi cuenta" button a refusal message carries in a demo (or null). */
export function signupOffer() {
  return signupAction ? { label: 'Crear mi cuenta', onclick: signupAction } : null;
}

/** A refusal of the demo policy: its message, with "Crear mi cuenta". */
export function refusal(text) {
  return toast(text, 'info', signupOffer());
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
  if (!policy.allows(method, path)) {
    setDisabled(button, policy.message);
    button.dataset.refusal = 'policy';
  }
  button.addEventListener('click', (e) => {
    if (refused(button)) e.stopImmediatePropagation();
  });
  return button;
}

/** Whether a click should be ignored (the control is disabled) and says why. */
export function refused(control) {
  if (control.getAttribute('aria-disabled') === 'true') {
    const text = control.dataset.tip || 'Esta acción no está disponible.';
    if (control.dataset.refusal === 'policy') refusal(text);
    else toast(text, 'info');
    return true;
  }
  return false;
}

