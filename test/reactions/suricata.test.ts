import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { categorySlug, parseSuricataEve } from '../../src/reactions/suricata.js';
import type { TestServer } from '../server/support/test-server.js';
import { manualClock, quarantineServer } from './support.js';

const EVE = readFileSync(join(import.meta.dirname, 'fixtures/eve.ndjson'), 'utf8');

describe('parseSuricataEve', () => {
  it('turns alert lines into suricata.alert events and skips the rest', () => {
    const { events, skipped } = parseSuricataEve(EVE);
    expect(skipped).toBe(3);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      type: 'suricata.alert',
      aliases: ['suricata:a-network-trojan-was-detected'],
      candidates: ['10.20.0.10', '203.0.113.45'],
      severity: 1,
      details: {
        signatureId: 2024897,
        category: 'A Network Trojan was detected',
        categorySlug: 'a-network-trojan-was-detected',
        destPort: 4444,
        proto: 'TCP',
      },
    });
  });

  it('accepts one object or an array, and names the bad line', () => {
    const line = EVE.split('\n')[0]!;
    expect(parseSuricataEve(JSON.parse(line)).events).toHaveLength(1);
    expect(parseSuricataEve([JSON.parse(line), JSON.parse(line)]).events).toHaveLength(2);
    expect(() => parseSuricataEve(`${line}\n{oops`)).toThrow(/line 2/);
    expect(() => parseSuricataEve('{"event_type":"alert","src_ip":"10.0.0.1"}')).toThrow(/alert/);
    expect(categorySlug('Attempted Administrator Privilege Gain')).toBe(
      'attempted-administrator-privilege-gain',
    );
  });
});

describe('POST /v1/events/suricata', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await quarantineServer(manualClock());
    // A reaction on one alert category (the alias suricata:<category slug>).
    const r = await s.call('POST', '/v1/apply', {
      body: {
        documents: [
          {
            kind: 'Reaction',
            name: 'mark-scanned',
            on: 'suricata:potentially-bad-traffic',
            addTags: { scanned: true },
          },
        ],
      },
    });
    expect(r.status).toBe(200);
  });
  afterAll(async () => {
    await s.close();
  });

  it('quarantines the record holding src_ip, else dest_ip, from NDJSON', async () => {
    const r = await s.call('POST', '/v1/events/suricata', {
      as: 'operator',
      raw: EVE,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(r.status).toBe(200);
    expect(r.body.skipped).toBe(3);
    const [first, second] = r.body.events;
    // src_ip 10.20.0.10 is web-1's: the sender is the target.
    expect(first.event).toMatchObject({
      type: 'suricata.alert',
      target: '10.20.0.10',
      record: 'web-1',
      severity: 1,
    });
    expect(first.event.reactions).toEqual(['quarantine-suricata']);
    // src_ip is outside every record: dest_ip (db-1) is the target.
    expect(second.event).toMatchObject({ target: '10.20.0.20', record: 'db-1' });
    expect(second.event.reactions).toEqual(['mark-scanned', 'quarantine-suricata']);
    expect(s.manager.engine.get('Interface', 'db-1')).toMatchObject({
      tags: { scanned: true, quarantine: true },
    });
    const check = await s.call('POST', '/v1/check', {
      body: { src: 'web-1', dst: 'db-1', protocol: 'tcp', port: 5432 },
    });
    expect(check.body.verdict).toBe('deny');
    const events = await s.call('GET', '/v1/events?limit=2');
    expect(events.body.items[0].details.signature).toBe(
      'ET SCAN Suspicious inbound to PostgreSQL port 5432',
    );
  });

  it('accepts a single JSON alert too', async () => {
    const line = JSON.parse(EVE.split('\n')[0]!);
    const r = await s.call('POST', '/v1/events/suricata', { body: line });
    expect(r.status).toBe(200);
    // Already quarantined: `match: !has(quarantine)` no longer matches.
    expect(r.body.events[0].event.reactions).toEqual([]);
  });
});
