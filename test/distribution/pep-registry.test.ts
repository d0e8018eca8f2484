/**
 * PepRegistry (pure): acknowledgements never go backwards, `waitFor` resolves when the
 * last PEP it waits for acknowledges (not before), names laggards on timeout, stops
 * waiting for a PEP that disconnects, and stays linear when thousands of PEPs ACK.
 */
import { describe, expect, it } from 'vitest';
import { MAX_PEPS, PepRegistry } from '../../src/server/distribution/pep-registry.js';

function settled<T>(p: Promise<T>): { done: boolean; value?: T } {
  const s: { done: boolean; value?: T } = { done: false };
  void p.then((value) => Object.assign(s, { done: true, value }));
  return s;
}
const tick = () => new Promise((r) => setImmediate(r));

describe('PepRegistry', () => {
  it('never moves an applied revision backwards', () => {
    const peps = new PepRegistry(Date.now);
    peps.connect('h1');
    peps.sent('h1', 9);
    peps.ack('h1', 5);
    peps.ack('h1', 3);
    expect(peps.appliedOf('h1')).toBe(5);
  });

  it('never takes an ack beyond what was sent, nor one for a host never seen', () => {
    const peps = new PepRegistry(Date.now);
    peps.connect('h1');
    peps.sent('h1', 4);
    expect(peps.ack('h1', Number.MAX_SAFE_INTEGER)).toBe(4);
    expect(peps.ack('ghost', 7)).toBe(0);
    expect(peps.list(10).map((p) => p.host)).toEqual(['h1']);
  });

  it('keeps at most MAX_PEPS, forgetting the longest-silent disconnected one', () => {
    let t = 0;
    const peps = new PepRegistry(() => t++);
    const live = peps.connect('h-live');
    for (let i = 0; i < MAX_PEPS + 10; i++) peps.touch(`h${i}`);
    expect(peps.list(0).length).toBe(MAX_PEPS);
    expect(peps.connected()).toEqual(['h-live']);
    expect(peps.underlayOf('h0')).toBeUndefined();
    live();
  });

  it('learns only underlay addresses that are one IP address', () => {
    const peps = new PepRegistry(Date.now);
    peps.learnUnderlay('h1', '10.0.0.1 self\nlink set dev eth0 down');
    peps.learnUnderlay('h2', '2001:DB8::1');
    expect(peps.underlayOf('h1')).toBeUndefined();
    expect(peps.underlayOf('h2')).toBe('2001:db8::1');
  });

  it('waits for every connected PEP concerned, and only those', async () => {
    const peps = new PepRegistry(Date.now);
    for (const h of ['h1', 'h2', 'h3']) {
      peps.connect(h);
      peps.sent(h, 9);
    }
    const w = settled(peps.waitFor(7, new Set(['h1', 'h2']), 5000));
    peps.ack('h3', 7); // not concerned
    peps.ack('h1', 7);
    peps.ack('h2', 6); // not yet
    await tick();
    expect(w.done).toBe(false);
    peps.ack('h2', 8);
    await tick();
    expect(w.done).toBe(true);
    expect(w.value).toMatchObject({ hosts: ['h1', 'h2'], laggards: [] });
  });

  it('names the laggards on timeout, and drops a PEP that disconnects', async () => {
    const peps = new PepRegistry(Date.now);
    peps.connect('h1');
    peps.sent('h1', 3);
    const close2 = peps.connect('h2');
    const timedOut = await peps.waitFor(3, 'all', 20);
    expect(timedOut.laggards).toEqual(['h1', 'h2']);
    const w = settled(peps.waitFor(3, 'all', 5000));
    peps.ack('h1', 3);
    await tick();
    expect(w.done).toBe(false);
    close2();
    await tick();
    expect(w.value).toMatchObject({ laggards: [] });
  });

  it('handles 20,000 ACKs for one wait in linear time', async () => {
    const peps = new PepRegistry(Date.now);
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      peps.connect(`h${i}`);
      peps.sent(`h${i}`, 2);
    }
    const w = peps.waitFor(2, 'all', 60_000);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) peps.ack(`h${i}`, 2);
    const ms = performance.now() - t0;
    expect((await w).laggards).toEqual([]);
    // Rescanning the pending set on every ACK took seconds here.
    expect(ms).toBeLessThan(1000);
  });
});
