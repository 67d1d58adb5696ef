import { describe, expect, it } from 'vitest';
import { extractCode } from './extract.js';

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
});
