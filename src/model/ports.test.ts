import { describe, expect, it } from 'vitest';
import { VnpError } from './errors.js';
import { formatPortSpec, parsePortSpec } from './ports.js';

describe('parsePortSpec', () => {
  const good: [string, string, number, number, string][] = [
    ['tcp/443', 'tcp', 443, 443, 'tcp/443'],
    ['udp/53', 'udp', 53, 53, 'udp/53'],
    ['tcp/8000-8099', 'tcp', 8000, 8099, 'tcp/8000-8099'],
    ['sctp/9', 'sctp', 9, 9, 'sctp/9'],
    ['icmp', 'icmp', 0, 65535, 'icmp'],
    ['udp', 'udp', 0, 65535, 'udp'],
    ['tcp', 'tcp', 0, 65535, 'tcp'],
    ['TCP/443', 'tcp', 443, 443, 'tcp/443'],
    ['tcp/1-65535', 'tcp', 1, 65535, 'tcp/1-65535'],
    ['tcp/80-80', 'tcp', 80, 80, 'tcp/80'],
    ['tcp/65535', 'tcp', 65535, 65535, 'tcp/65535'],
  ];
  it.each(good)('%s', (text, proto, lo, hi, canon) => {
    const p = parsePortSpec(text, 'ports[0]');
    expect(p).toEqual({ proto, lo, hi });
    expect(formatPortSpec(p)).toBe(canon);
    expect(parsePortSpec(canon, 'x')).toEqual(p);
  });

  const bad: [unknown, RegExp][] = [
    ['tcp/0', /ports 1\.\.65535/],
    ['tcp/65536', /ports 1\.\.65535/],
    ['tcp/0443', /ports 1\.\.65535/],
    ['tcp/', /ports 1\.\.65535/],
    ['tcp/80-', /ports 1\.\.65535/],
    ['tcp/-80', /ports 1\.\.65535/],
    ['tcp/a', /ports 1\.\.65535/],
    ['tcp/90-80', /low port <= high port/],
    ['tcp/ 80', /ports 1\.\.65535/],
    ['icmp/8', /icmp takes no port/],
    ['http/80', /expected a port spec/],
    ['', /expected a port spec/],
    ['/80', /expected a port spec/],
    [443, /expected a port spec/],
  ];
  it.each(bad)('rejects %j naming the field', (text, msg) => {
    try {
      parsePortSpec(text as string, 'ingress[0].ports[2]');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(VnpError);
      const err = e as VnpError;
      expect(err.code).toBe('VNP_ERR_VALIDATION');
      expect(err.details?.field).toBe('ingress[0].ports[2]');
      expect(err.message.startsWith('ingress[0].ports[2]: ')).toBe(true);
      expect(err.message).toMatch(msg);
    }
  });
});
