/**
 * Where a browser may be sent after signing in: same origin as an allow-listed URL and under
 * its path (`https://app.example.com/console` allows `/console` and `/console/…`, not
 * `/console-evil` nor `https://app.example.com.evil.test`). A relative path (`/x`, never `//x`)
 * resolves against the public URL. Answers the absolute URL, or undefined when refused.
 */
export function allowedReturnUrl(candidate: string | undefined, publicUrl: string, allowed: readonly string[]): string | undefined {
  const raw = candidate?.trim() || `${publicUrl}/`;
  if (/[\u0000-\u001f\\]/.test(raw)) return undefined;
  let target: URL;
  try {
    target = raw.startsWith('/') && !raw.startsWith('//') ? new URL(raw, `${publicUrl}/`) : new URL(raw);
  } catch {
    return undefined;
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return undefined;
  if (target.username || target.password) return undefined;
  for (const entry of allowed) {
    let base: URL;
    try {
      base = new URL(entry);
    } catch {
      continue;
    }
    if (base.origin !== target.origin) continue;
    const prefix = base.pathname.replace(/\/+$/, '');
    if (prefix === '' || target.pathname === prefix || target.pathname.startsWith(`${prefix}/`)) return target.toString();
  }
  return undefined;
}
