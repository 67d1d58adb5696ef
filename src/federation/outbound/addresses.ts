import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * How an IP literal is classified for outbound calls. `range` names the special range (ipaddr.js's
 * names, plus `ipv4Compatible`, `nat64Local` and `notGlobal`); for a form that embeds an IPv4
 * address and reaches it, `range` is `<form>/<range of the IPv4 address>` and `embedded` that address.
 */
export interface AddressClass {
  isPublic: boolean;
  range: string;
  embedded?: string;
}

const NOT_PUBLIC = (range: string): AddressClass => ({ isPublic: false, range });

function classifyV4(address: ipaddr.IPv4): AddressClass {
  const range = address.range();
  // Why: ipaddr.js names every special-purpose block (private, loopback, link-local incl. cloud
  // metadata, CGNAT, multicast, broadcast, documentation, benchmarking, 240/4, AS112, AMT);
  // whatever it calls `unicast` is the rest of the globally routed space.
  return { isPublic: range === 'unicast', range };
}

/** The IPv4 address in the low 32 bits of an IPv6 address. */
function low32(address: ipaddr.IPv6): ipaddr.IPv4 {
  const bytes = address.toByteArray();
  return new ipaddr.IPv4(bytes.slice(12, 16));
}

function embedding(form: string, address: ipaddr.IPv6): AddressClass {
  const v4 = low32(address);
  const inner = classifyV4(v4);
  return { isPublic: inner.isPublic, range: `${form}/${inner.range}`, embedded: v4.toString() };
}

function classifyV6(address: ipaddr.IPv6): AddressClass {
  const range = address.range();
  const p = address.parts;
  switch (range) {
    // The socket (IPv4-mapped) or the operator's NAT64 gateway (RFC 6052 well-known prefix)
    // connects to the embedded IPv4 address itself: that address decides.
    case 'ipv4Mapped':
      return embedding('ipv4Mapped', address);
    case 'rfc6052':
      // 64:ff9b:1::/48 is the local-use NAT64 prefix (RFC 8215): a network-specific translator.
      if (p[2] !== 0) return NOT_PUBLIC('nat64Local');
      return embedding('nat64', address);
    case 'unicast':
      break;
    // Everything else with a name is special: loopback, unspecified, link-local, unique-local,
    // site-local, multicast, SIIT (`::ffff:0:a.b.c.d`, only meaningful inside a translator's
    // domain), 6to4 and Teredo (deprecated tunnels whose relays reach an embedded IPv4 address),
    // documentation, discard, benchmarking, ORCHID, segment routing.
    default:
      return NOT_PUBLIC(range);
  }
  // Why: IPv4-compatible addresses (`::a.b.c.d`, deprecated by RFC 4291) are `unicast` to ipaddr.js,
  // yet `::7f00:1` reaches 127.0.0.1 on stacks that still route ::/96 through an automatic tunnel.
  if (p.slice(0, 6).every((part) => part === 0)) return { ...embedding('ipv4Compatible', address), isPublic: false };
  // Only 2000::/3 is allocated as global unicast; the rest of the space is unassigned or special.
  if (((p[0] as number) & 0xe000) !== 0x2000) return NOT_PUBLIC('notGlobal');
  return { isPublic: true, range };
}

/**
 * Classifies an IP literal (brackets and a zone id are ignored). Only strict dotted-quad IPv4 and
 * standard IPv6 text are accepted: legacy forms such as `0x7f.1` or `2130706433` are `invalid`.
 */
export function classifyAddress(address: string): AddressClass {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return classifyV4(ipaddr.IPv4.parse(bare));
  if (family === 6) {
    // Why: ipaddr.js reads `::a.b.c.d` as `::ffff:a.b.c.d`, which names another address (`::8.8.8.8`
    // would pass as IPv4-mapped). The WHATWG URL parser writes the literal's own bits in hex first.
    const hex = new URL(`http://[${bare}]`).hostname.slice(1, -1);
    return classifyV6(ipaddr.IPv6.parse(hex));
  }
  return NOT_PUBLIC('invalid');
}

/**
 * True when `address` (an IP literal) is a public unicast address that an administrator-configured
 * URL may reach from the server. Anything unparsable is not public.
 */
export function isPublicAddress(address: string): boolean {
  return classifyAddress(address).isPublic;
}
