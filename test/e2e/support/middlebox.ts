/**
 * The user's part of steering in tests: a via record's instance that forwards (and
 * sends no redirects: it forwards out of the interface it received on) and counts the
 * packets it forwards with its own nft counter.
 */
import { sh } from './topology.js';

/**
 * Makes instance namespace `ns` a counting middlebox.
 *
 * @example middlebox(topo.instanceNs('fw'))
 */
export function middlebox(ns: string): void {
  sh([
    'ip',
    'netns',
    'exec',
    ns,
    'sysctl',
    '-qw',
    'net.ipv4.ip_forward=1',
    'net.ipv6.conf.all.forwarding=1',
    'net.ipv4.conf.all.send_redirects=0',
  ]);
  for (const l of sh(['ip', '-n', ns, '-o', 'link', 'show']).split('\n')) {
    const dev = l.split(': ')[1]?.split('@')[0];
    if (dev && dev !== 'lo')
      sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', `net.ipv4.conf.${dev}.send_redirects=0`]);
  }
  sh(
    ['ip', 'netns', 'exec', ns, 'nft', '-f', '-'],
    'table inet mb {\n chain pass {\n  type filter hook forward priority 0; policy accept;\n  counter\n }\n}\n',
  );
}

/**
 * Packets the middlebox in `ns` forwarded so far.
 *
 * @example const before = forwarded(topo.instanceNs('fw'))
 */
export function forwarded(ns: string): number {
  const out = sh(['ip', 'netns', 'exec', ns, 'nft', '-j', 'list', 'chain', 'inet', 'mb', 'pass']);
  const rule = (
    JSON.parse(out) as { nftables: { rule?: { expr: { counter?: { packets: number } }[] } }[] }
  ).nftables.find((x) => x.rule)!.rule!;
  return rule.expr.find((e) => e.counter)!.counter!.packets;
}
