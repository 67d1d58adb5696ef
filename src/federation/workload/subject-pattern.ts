/**
 * `subjectPattern` of a workload identity: an exact subject, or a prefix followed by one
 * trailing `*` (`repo:acme/api:*`). A `*` anywhere else is literal. A bare `*` (or a prefix
 * shorter than 3 characters) matches nothing: on a shared issuer such as GitHub's it would let
 * every repository in the world in.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (!pattern.endsWith('*')) return pattern === subject;
  const prefix = pattern.slice(0, -1);
  if (prefix.length < 3) return false;
  return subject.startsWith(prefix);
}
