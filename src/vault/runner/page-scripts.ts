/*
 * Code that runs inside the page. Kept as JavaScript source text, not as functions: a transpiler
 * (tsx, esbuild's keepNames) would wrap compiled functions in helpers that do not exist in the page.
 * Each is a function expression called with one JSON argument (see `inPage`).
 */

export type FieldKind = 'identifier' | 'password' | 'code';

const VISIBLE = `(el) => {
  const r = el.getBoundingClientRect();
  const st = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && st.visibility !== 'hidden' && st.display !== 'none' && !el.disabled;
}`;

/**
 * Scores the visible inputs of one frame for a field kind and tags the best with
 * data-portcullis-field. Identifier: autocomplete, type, name/id, label text, placeholder; password:
 * a password input (current-password first); code: one-time-code, name/label/placeholder.
 */
export const TAG_FIELD = `({ kind, nonce }) => {
  const visible = ${VISIBLE};
  const labelOf = (el) => {
    let t = '';
    for (const l of Array.from(el.labels || [])) t += ' ' + (l.textContent || '');
    t += ' ' + (el.getAttribute('aria-label') || '');
    for (const id of (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)) {
      const n = document.getElementById(id);
      t += ' ' + ((n && n.textContent) || '');
    }
    return t.toLowerCase();
  };
  const inputs = Array.from(document.querySelectorAll('input')).filter((el) => visible(el) && !el.readOnly);
  let best;
  let bestScore = 0;
  for (const el of inputs) {
    const type = (el.getAttribute('type') || 'text').toLowerCase();
    const ac = (el.getAttribute('autocomplete') || '').toLowerCase();
    const nameId = (el.name + ' ' + el.id).toLowerCase();
    const label = labelOf(el);
    const ph = (el.getAttribute('placeholder') || '').toLowerCase();
    const all = nameId + ' ' + label + ' ' + ph;
    let score = 0;
    if (kind === 'password') {
      if (type !== 'password') continue;
      score = 1 + (ac.includes('current-password') ? 5 : 0) - (ac.includes('new-password') ? 0.5 : 0);
    } else if (kind === 'identifier') {
      if (!['text', 'email', 'tel', ''].includes(type) || ac.includes('one-time-code')) continue;
      const re = /user|e-?mail|login|account|phone|mobile|identifier|sign.?in/;
      if (/\\b(username|email|tel)\\b/.test(ac)) score += 10;
      if (type === 'email' || type === 'tel') score += 6;
      if (re.test(nameId)) score += 5;
      if (re.test(label)) score += 4;
      if (re.test(ph)) score += 3;
      if (el.form && el.form.querySelector('input[type=password]')) score += 1;
      if (/code|otp|search|captcha|token/.test(all)) score -= 8;
    } else {
      if (!['text', 'number', 'tel', ''].includes(type)) continue;
      const re = /code|otp|token|2fa|mfa|totp|verif|one.?time|\\bpin\\b/;
      if (ac.includes('one-time-code')) score += 10;
      if (re.test(nameId)) score += 5;
      if (re.test(label)) score += 4;
      if (re.test(ph)) score += 3;
      if (el.inputMode === 'numeric' && score > 0) score += 1;
      if (/user|e-?mail|login|phone|search/.test(nameId)) score -= 8;
    }
    if (score > bestScore) {
      best = el;
      bestScore = score;
    }
  }
  if (!best) return false;
  best.setAttribute('data-portcullis-field', nonce);
  return true;
}`;

/**
 * Tags the submit control of a tagged field: the form's submit button, a button elsewhere naming the
 * form (form="id"), or else a visible button whose text reads like signing in.
 */
export const TAG_SUBMIT = `({ field, nonce }) => {
  const visible = ${VISIBLE};
  const el = document.querySelector('[data-portcullis-field="' + field + '"]');
  const form = el ? el.form : null;
  const isSubmit = (b) =>
    (b.tagName === 'BUTTON' && (b.type || 'submit') === 'submit') || (b.tagName === 'INPUT' && ['submit', 'image'].includes(b.type));
  let button;
  if (form) {
    button = Array.from(form.querySelectorAll('button, input')).find((b) => isSubmit(b) && visible(b));
    if (!button && form.id) {
      button = Array.from(document.querySelectorAll('[form="' + CSS.escape(form.id) + '"]')).find((b) => isSubmit(b) && visible(b));
    }
  }
  if (!button) {
    const re = /sign.?in|log.?in|next|continue|submit|verify|confirm/i;
    button = Array.from(document.querySelectorAll('button, input[type=submit], input[type=button], [role=button]')).find(
      (b) => visible(b) && re.test((b.value || b.textContent || b.getAttribute('aria-label') || '').trim()),
    );
  }
  if (!button) return false;
  button.setAttribute('data-portcullis-submit', nonce);
  return true;
}`;

/** The first visible error message of the frame, shortened (it becomes the failure reason). */
export const ERROR_TEXT = `() => {
  const nodes = Array.from(document.querySelectorAll('[role=alert], .error, .alert, .alert-danger, [aria-live=assertive], .invalid-feedback'));
  for (const el of nodes) {
    const text = (el.innerText || el.textContent || '').trim().replace(/\\s+/g, ' ');
    if (text && el.getBoundingClientRect().height > 0) return text.slice(0, 160);
  }
  return '';
}`;

/** The expression that calls an in-page script with its argument. */
export const inPage = (script: string, arg: unknown = null): string => `(${script})(${JSON.stringify(arg)})`;
