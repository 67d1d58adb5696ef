import { describe, expect, it } from 'vitest';
import { classifyAddress, isPublicAddress } from './addresses.js';

/** @see issue 14 finding 15 — address classification, one row per form (address, public?, range). */
const TABLE: [string, boolean, string][] = [
  // IPv4
  ['8.8.8.8', true, 'unicast'],
  ['140.82.112.3', true, 'unicast'],
  ['127.0.0.1', false, 'loopback'],
  ['127.255.255.254', false, 'loopback'],
  ['0.0.0.0', false, 'unspecified'],
  ['10.1.2.3', false, 'private'],
  ['172.16.0.1', false, 'private'],
  ['172.31.255.255', false, 'private'],
  ['192.168.1.1', false, 'private'],
  ['169.254.169.254', false, 'linkLocal'],
  ['100.64.0.1', false, 'carrierGradeNat'],
  ['224.0.0.1', false, 'multicast'],
  ['255.255.255.255', false, 'broadcast'],
  ['240.0.0.1', false, 'reserved'],
  ['192.0.2.1', false, 'reserved'],
  ['198.18.0.1', false, 'reserved'],
  ['192.0.0.8', false, 'reserved'],
  // IPv6 proper
  ['2606:4700:4700::1111', true, 'unicast'],
  ['2a00:1450:4001:82b::200e', true, 'unicast'],
  ['::1', false, 'loopback'],
  ['::', false, 'unspecified'],
  ['fe80::1', false, 'linkLocal'],
  ['fe80::1%eth0', false, 'linkLocal'],
  ['fd00::1', false, 'uniqueLocal'],
  ['fc00::1', false, 'uniqueLocal'],
  ['fec0::1', false, 'deprecatedSiteLocal'],
  ['ff02::1', false, 'multicast'],
  ['2001:db8::1', false, 'reserved'],
  ['100::1', false, 'discard'],
  ['4000::1', false, 'notGlobal'],
  // IPv4-mapped: the embedded address decides (the socket connects to it).
  ['::ffff:127.0.0.1', false, 'ipv4Mapped/loopback'],
  ['::ffff:7f00:1', false, 'ipv4Mapped/loopback'],
  ['::ffff:a9fe:a9fe', false, 'ipv4Mapped/linkLocal'],
  ['::ffff:10.0.0.1', false, 'ipv4Mapped/private'],
  ['::ffff:8.8.8.8', true, 'ipv4Mapped/unicast'],
  // IPv4-compatible (deprecated): never public, whatever it embeds.
  ['::7f00:1', false, 'ipv4Compatible/loopback'],
  ['::127.0.0.1', false, 'ipv4Compatible/loopback'],
  ['::a9fe:a9fe', false, 'ipv4Compatible/linkLocal'],
  ['::8.8.8.8', false, 'ipv4Compatible/unicast'],
  // SIIT IPv4-translated (RFC 6145 `::ffff:0:a.b.c.d`): never public.
  ['::ffff:0:7f00:1', false, 'rfc6145'],
  ['::ffff:0:127.0.0.1', false, 'rfc6145'],
  ['::ffff:0:8.8.8.8', false, 'rfc6145'],
  // NAT64 well-known prefix: the embedded address decides; the local-use prefix is never public.
  ['64:ff9b::7f00:1', false, 'nat64/loopback'],
  ['64:ff9b::10.0.0.1', false, 'nat64/private'],
  ['64:ff9b::a9fe:a9fe', false, 'nat64/linkLocal'],
  ['64:ff9b::808:808', true, 'nat64/unicast'],
  ['64:ff9b:1::808:808', false, 'nat64Local'],
  // 6to4 and Teredo (deprecated tunnels): never public.
  ['2002:7f00:1::', false, '6to4'],
  ['2002:808:808::1', false, '6to4'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', false, 'teredo'],
  // Not IP literals, or legacy IPv4 spellings that some parsers accept.
  ['not-an-ip', false, 'invalid'],
  ['', false, 'invalid'],
  ['2130706433', false, 'invalid'],
  ['0x7f.0.0.1', false, 'invalid'],
  ['127.1', false, 'invalid'],
  ['0177.0.0.1', false, 'invalid'],
  ['::ffff:127.1', false, 'invalid'],
];

describe('classifyAddress', () => {
  it.each(TABLE)('%s → public %s (%s)', (address, isPublic, range) => {
    expect(classifyAddress(address)).toMatchObject({ isPublic, range });
    expect(isPublicAddress(address)).toBe(isPublic);
  });

  it('accepts bracketed literals as URLs write them, and names the embedded address', () => {
    expect(classifyAddress('[::7f00:1]')).toEqual({ isPublic: false, range: 'ipv4Compatible/loopback', embedded: '127.0.0.1' });
    expect(classifyAddress('[64:ff9b::808:808]')).toEqual({ isPublic: true, range: 'nat64/unicast', embedded: '8.8.8.8' });
    // The WHATWG URL parser writes `::127.0.0.1` as `::7f00:1`; both spellings classify alike.
    expect(classifyAddress(new URL('https://[::127.0.0.1]/').hostname).range).toBe('ipv4Compatible/loopback');
  });
});
