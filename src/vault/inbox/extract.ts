/** What a 2FA email carries: a one-time code, a sign-in link, or both. */
export interface ExtractedCode {
  code: string | null;
  link: string | null;
}

const KEYWORD =
  /\b(?:code|codes|verification|verify|one[-\s]?time|otp|passcode|pass\s?code|pin|security|2fa|two[-\s]factor|authentication|sign[-\s]?in|log[-\s]?in|login|confirm(?:ation)?)\b/gi;
const CANDIDATE = /(?<![\w.,/:-])(\d{4,8})(?![\w.,/:-]?\d)/g;
const URL_RE = /\bhttps?:\/\/[^\s<>"')\]]+/gi;
const LINK_HINT = /sign[-_]?in|log[-_]?in|login|magic|verify|verification|confirm|auth|token|otp|session/i;
/** How far (in characters) a code may sit from a keyword. */
const NEAR = 80;

/**
 * Finds the one-time code (4–8 digits, the one nearest a word such as code / verification /
 * one-time) and the sign-in link (an http(s) URL that looks like one) in a message.
 */
export function extractCode(subject: string, text: string, html?: string): ExtractedCode {
  const body = `${subject}\n${text}`;
  const keywords = [...body.matchAll(KEYWORD)].map((m) => m.index ?? 0);
  let best: { code: string; distance: number } | undefined;
  if (keywords.length > 0) {
    for (const m of body.matchAll(CANDIDATE)) {
      const at = m.index ?? 0;
      const value = m[1] ?? '';
      const distance = Math.min(...keywords.map((k) => Math.abs(k - at)));
      if (distance <= NEAR && (!best || distance < best.distance)) best = { code: value, distance };
    }
  }
  const urls = [...body.matchAll(URL_RE), ...(html ? [...html.matchAll(URL_RE)] : [])].map((m) =>
    m[0].replace(/[.,;:!?]+$/, '').replace(/&amp;/g, '&'),
  );
  const link = urls.find((u) => LINK_HINT.test(u)) ?? null;
  return { code: best?.code ?? null, link };
}
