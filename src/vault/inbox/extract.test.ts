import { describe, expect, it } from 'vitest';
import { extractCode, htmlToText, MAX_HTML_CHARS, MAX_SCAN_CHARS } from './extract.js';

describe('extractCode', () => {
  it.each([
    ['Your verification code', 'Use 482913 to sign in. It expires in 10 minutes.', '482913'],
    ['Sign-in attempt', 'Your one-time passcode is: 5521', '5521'],
    ['Security alert', 'Order 2024 shipped.\n\nYour code: 90817263', '90817263'],
    ['Your Acme code is 771204', '', '771204'],
    ['Welcome', 'Call us at 555-0100 any time. Verification code 123456.', '123456'],
  ])('finds the code in "%s"', (subject, text, code) => {
    expect(extractCode(subject, text).code).toBe(code);
  });

  it('ignores digits far from any code word, and too short or long numbers', () => {
    expect(extractCode('Invoice', 'Invoice 99123 total 4500 EUR').code).toBeNull();
    expect(extractCode('Your code', 'code: 123').code).toBeNull();
    expect(extractCode('Your code', 'code: 1234567890').code).toBeNull();
  });

  it('finds a sign-in link', () => {
    const got = extractCode('Sign in to Acme', 'See https://acme.test/help or click https://acme.test/login/magic?token=abc.', undefined);
    expect(got.link).toBe('https://acme.test/login/magic?token=abc');
    const html = extractCode('Sign in', '', '<a href="https://x.test/auth/verify?t=1&amp;u=2">Sign in</a>');
    expect(html.link).toBe('https://x.test/auth/verify?t=1&u=2');
  });

  // @see issue 14, finding 6: transactional mails print codes in table cells and in groups.
  it.each([
    ['Your code is 482 913', '482913'],
    ['Your code is 482-913.', '482913'],
    ['Verification code: 4829 1234', '48291234'],
    ['Verification code: 4829-1234', '48291234'],
    ['Your sign-in code\u00a0482\u00a0913', '482913'],
  ])('reads the grouped code in "%s"', (text, code) => {
    expect(extractCode('Hello', text).code).toBe(code);
  });

  it('does not join the groups of a phone number, a date or unequal groups into a code', () => {
    expect(extractCode('Security', 'Questions about your code? Call +1 415 555 0100.').code).toBeNull();
    expect(extractCode('Security', 'Questions about your code? Call 415-555-0100.').code).toBeNull();
    expect(extractCode('Security', 'Your code was requested on 2026-04-01.').code).toBeNull();
    expect(extractCode('Security', 'Your code: 48 2913').code).toBeNull();
    expect(extractCode('Security', 'Your card 4829 1234 5678 9012 is linked; code 55-1234').code).toBeNull();
  });

  it('finds a code in an HTML table cell, away from inline styles and style sheets', () => {
    const html = [
      '<html><head><style>.code { color: #123456; width: 1200px }</style></head><body>',
      '<table width="600"><tr><td style="font-family:Helvetica,Arial,sans-serif;font-size:14px;color:#333333;padding:0 0 12px 0">',
      'Your verification code</td></tr>',
      '<tr><td style="font-family:Courier,monospace;font-size:32px;font-weight:bold;letter-spacing:6px;color:#111111;height:1200">',
      '482913</td></tr></table></body></html>',
    ].join('\n');
    expect(extractCode('Welcome', '', html).code).toBe('482913');
    expect(extractCode('Welcome', '', '<table><tr><td>Code</td><td>482&nbsp;913</td></tr></table>').code).toBe('482913');
    expect(extractCode('Welcome', '', '<!-- code 111111 --><p>Your code</p><script>var code = 222222;</script><b>333333</b>').code).toBe(
      '333333',
    );
  });

  it('prefers the plain-text part, and reads the HTML part when the text has no code', () => {
    expect(extractCode('Sign in', 'Your code is 111111', '<td>Your code</td><td>222222</td>').code).toBe('111111');
    expect(extractCode('Sign in', 'Welcome back!', '<td>Your code</td><td>222222</td>').code).toBe('222222');
  });

  it('reads only a bounded prefix of the text and of the markup', () => {
    const filler = 'lorem ipsum '.repeat(Math.ceil(MAX_SCAN_CHARS / 12));
    expect(extractCode('Hello', `Your code is 482913. ${filler}`).code).toBe('482913');
    expect(extractCode('Hello', `${filler} Your code is 482913.`).code).toBeNull();
    const markup = `<p>${'<span style="color:#000">x</span>'.repeat(Math.ceil(MAX_HTML_CHARS / 30))}</p>`;
    expect(extractCode('Hello', '', `<td>Your code</td><td>482913</td>${markup}`).code).toBe('482913');
    expect(extractCode('Hello', '', `${markup}<td>Your code</td><td>482913</td>`).code).toBeNull();
    expect(htmlToText(`<p>${'a'.repeat(MAX_SCAN_CHARS * 2)}</p>`).length).toBeLessThanOrEqual(MAX_SCAN_CHARS);
  });

  // @see issue 14, finding 6: a 495 KB mail repeating "code 12345 " held the event loop for ~72 s.
  // Nothing here measures time: the guarantee is structural (a bounded prefix, one pass); a
  // quadratic scan of these inputs would run into the test timeout.
  it('handles ~500 KB pathological inputs', () => {
    const size = 495 * 1024;
    const repeated = 'code 12345 '.repeat(Math.ceil(size / 11));
    expect(extractCode('Your code', repeated)).toEqual({ code: '12345', link: null });
    expect(extractCode('Your code', '', `<td>${repeated}</td>`).code).toBe('12345');
    expect(extractCode('code', '<'.repeat(size), '<'.repeat(size)).code).toBeNull();
    expect(extractCode('code', '', `${'<style>'.repeat(size / 7)}`).code).toBeNull();
    expect(extractCode('code', '', `${'<!--'.repeat(size / 4)}`).code).toBeNull();
    expect(extractCode('Sign in', `https://x.test/login${'.'.repeat(size)}a`).link).toBe('https://x.test/login');
    expect(extractCode('Sign in', `https://x.test/${'.a'.repeat(size / 2)}`).link).toBeNull();
    expect(extractCode('code', '1234\n'.repeat(size / 5)).code).toBe('1234');
    expect(extractCode('code', '123 456 '.repeat(size / 8)).code).toBeNull();
  });
});
