/** What a 2FA email carries: a one-time code, a sign-in link, or both. */
export interface ExtractedCode {
  code: string | null;
  link: string | null;
}

/**
 * How much of a message's text (subject and body, or the text left of its HTML) is searched, in
 * characters. Why a bound: extraction runs on the event loop for every inbound mail, so its cost must
 * not follow the sender's choice of size. A 2FA mail states its code near the top; 64 KiB is several
 * times the longest real one seen, markup excluded.
 */
export const MAX_SCAN_CHARS = 64 * 1024;
/** How much HTML markup is read (tags, inline styles and all) before it is reduced to text. */
export const MAX_HTML_CHARS = 256 * 1024;
/** How far (in characters) a code may sit from a keyword. */
const NEAR = 80;

const KEYWORD =
  /\b(?:code|codes|verification|verify|one[-\s]?time|otp|passcode|pass\s?code|pin|security|2fa|two[-\s]factor|authentication|sign[-\s]?in|log[-\s]?in|login|confirm(?:ation)?)\b/gi;
/**
 * A code: 4–8 digits, or two equal groups of three or four digits split by one space or hyphen
 * (`482 913`, `4829-1234`), as transactional mails print them. Digits that continue, across one
 * space or hyphen, into more digits (a phone number such as `415 555 0100`, a date) are not a code.
 * Every part of the pattern looks at a bounded number of characters, so a scan is linear in the text.
 */
const CANDIDATE = /(?<![\w.,/:-]|\d[ -])(?:\d{4}[ -]\d{4}|\d{3}[ -]\d{3}|\d{4,8})(?![\w.,/:-]?\d|[ -]\d)/g;
const URL_RE = /\bhttps?:\/\/[^\s<>"')\]]+/gi;
const LINK_HINT = /sign[-_]?in|log[-_]?in|login|magic|verify|verification|confirm|auth|token|otp|session/i;
const TRAILING_PUNCTUATION = '.,;:!?';
const SPACE_ENTITY = /&nbsp;|&#160;|&#xa0;/gi;
const STYLE_END = /<\/style\b/gi;
const SCRIPT_END = /<\/script\b/gi;

/**
 * Finds the one-time code (the candidate nearest a word such as code / verification / one-time,
 * within 80 characters) and the sign-in link (an http(s) URL that looks like one) in a message.
 * The plain text is searched first, then the text of the HTML part (so codes in table cells count).
 * Only the first {@link MAX_SCAN_CHARS} of text and {@link MAX_HTML_CHARS} of markup are read, and
 * the work is linear in what is read.
 */
export function extractCode(subject: string, text: string, html?: string): ExtractedCode {
  const body = `${subject.slice(0, MAX_SCAN_CHARS)}\n${text.slice(0, MAX_SCAN_CHARS)}`.slice(0, MAX_SCAN_CHARS);
  const markup = html?.slice(0, MAX_HTML_CHARS);
  const code = nearestCode(body) ?? (markup ? nearestCode(htmlToText(markup)) : null);
  const link = findLink(body) ?? (markup ? findLink(markup) : null);
  return { code, link };
}

/**
 * The candidate nearest to any keyword. Keywords and candidates both come in text order, so one
 * forward walk over the keyword positions finds each candidate's neighbours: O(keywords + candidates).
 */
function nearestCode(raw: string): string | null {
  const text = raw.replaceAll('\u00a0', ' ');
  const keywords: number[] = [];
  for (const m of text.matchAll(KEYWORD)) keywords.push(m.index);
  if (keywords.length === 0) return null;
  let k = 0;
  let best: { code: string; distance: number } | undefined;
  for (const m of text.matchAll(CANDIDATE)) {
    const at = m.index;
    while (k + 1 < keywords.length && (keywords[k + 1] ?? Number.POSITIVE_INFINITY) <= at) k++;
    const before = keywords[k] ?? 0;
    const after = keywords[k + 1];
    const distance = Math.min(Math.abs(at - before), after === undefined ? Number.POSITIVE_INFINITY : after - at);
    if (distance <= NEAR && (!best || distance < best.distance)) best = { code: m[0].replace(/[ -]/g, ''), distance };
  }
  return best?.code ?? null;
}

/** The first URL in `text` that looks like a sign-in link, without trailing punctuation. */
function findLink(text: string): string | null {
  for (const m of text.matchAll(URL_RE)) {
    let end = m[0].length;
    while (end > 0 && TRAILING_PUNCTUATION.includes(m[0][end - 1] ?? '')) end--;
    const url = m[0].slice(0, end).replaceAll('&amp;', '&');
    if (LINK_HINT.test(url)) return url;
  }
  return null;
}

/**
 * The visible text of an HTML fragment, cut at {@link MAX_SCAN_CHARS}: tags become a space (so
 * `<td>code</td><td>482913</td>` keeps the words apart), comments, `<style>` and `<script>` are
 * dropped, and no-break spaces become spaces. One forward pass with `indexOf`: every character is
 * looked at a bounded number of times, whatever the nesting or however many `<` lack their `>`.
 */
export function htmlToText(html: string): string {
  const parts: string[] = [];
  let length = 0;
  let i = 0;
  while (i < html.length && length < MAX_SCAN_CHARS) {
    const lt = html.indexOf('<', i);
    const chunk = html.slice(i, lt === -1 ? html.length : lt);
    parts.push(chunk, ' ');
    length += chunk.length + 1;
    if (lt === -1) break;
    if (html.startsWith('<!--', lt)) {
      const close = html.indexOf('-->', lt + 4);
      if (close === -1) break;
      i = close + 3;
      continue;
    }
    const gt = html.indexOf('>', lt + 1);
    if (gt === -1) break;
    i = gt + 1;
    const name = /^<([a-z]+)/i.exec(html.slice(lt, Math.min(gt, lt + 8)))?.[1]?.toLowerCase();
    const end = name === 'style' ? STYLE_END : name === 'script' ? SCRIPT_END : undefined;
    if (end) {
      // Style sheets and scripts are full of digits (colours, sizes) that are not codes.
      end.lastIndex = i;
      const close = end.exec(html);
      const closeGt = close ? html.indexOf('>', close.index) : -1;
      if (closeGt === -1) break;
      i = closeGt + 1;
    }
  }
  return parts.join('').slice(0, MAX_SCAN_CHARS).replace(SPACE_ENTITY, ' ');
}
