import { describe, expect, it } from 'vitest';
import { oracleModelToDocuments } from '../../../test/support/oracle/oracle-model.js';
import { Engine } from '../engine.js';
import { previewImpact, type ImpactRow } from './impact.js';
import { whoCanReach } from './who-can-reach.js';
import type { Protocol } from '../../model/types.js';
import { randomChange, randomModel } from '../../../test/support/random-model.js';
import { makeRng } from '../../../test/support/rng.js';

const PORTS = [1, 9, 22, 53, 80, 443, 1024, 1025, 8000, 8049, 8050, 8051, 8099, 8100, 8101, 65535];
const PROTOS: Protocol[] = ['tcp', 'udp', 'sctp', 'icmp'];

/** The verdict by `check`, `deny` when an endpoint record does not exist. */
function verdictOf(
  e: Engine,
  names: Set<string>,
  src: string,
  dst: string,
  proto: Protocol,
  port: number,
) {
  const isName = (x: string) => !x.includes('.') && !x.includes(':');
  if ((isName(src) && !names.has(src)) || (isName(dst) && !names.has(dst))) return 'deny';
  return e.check({ src, dst, protocol: proto, port }).verdict;
}

const covers = (row: ImpactRow, src: string, dst: string, proto: Protocol, port: number) => {
  const p = proto === 'icmp' ? 0 : port;
  const side = (ep: ImpactRow['src'], x: string) =>
    ep.address !== undefined ? false : ep.examples.includes(x);
  return (
    row.proto === proto &&
    row.ports[0] <= p &&
    p <= row.ports[1] &&
    side(row.src, src) &&
    side(row.dst, dst)
  );
};

/** The preview of before → after lists exactly the flips a brute-force `check` comparison finds. */
function expectExactImpact(before: Engine, after: Engine, label: string): void {
  const impact = previewImpact(before, after, { limit: 1_000_000, examples: 1000 });
  expect(impact.truncated).toBe(0);
  const nb = new Set(before.list('Interface').map((d) => d.name));
  const na = new Set(after.list('Interface').map((d) => d.name));
  const names = [...new Set([...nb, ...na])].sort();
  for (const src of names)
    for (const dst of names) {
      if (src === dst) continue;
      for (const proto of PROTOS)
        for (const port of proto === 'icmp' ? [0] : PORTS) {
          const b = verdictOf(before, nb, src, dst, proto, port || 1);
          const a = verdictOf(after, na, src, dst, proto, port || 1);
          const row = impact.rows.find((r) => covers(r, src, dst, proto, port));
          const ctx = `${label}: ${src}→${dst} ${proto}/${port} ${b}→${a}`;
          if (b !== a) {
            expect(row, ctx).toBeDefined();
            expect([row!.before, row!.after], ctx).toEqual([b, a]);
          } else {
            expect(row, ctx).toBeUndefined();
          }
        }
    }
  // World rows: their claim holds for the representative address.
  for (const r of impact.rows) {
    const w = r.src.address ?? r.dst.address;
    if (w === undefined) continue;
    const rec = (r.src.address ? r.dst : r.src).examples[0]!;
    const [s, d] = r.src.address ? [w, rec] : [rec, w];
    if (r.proto !== 'icmp' && r.ports[1] === 0) continue; // port 0 cannot be checked
    const port = r.proto === 'icmp' ? 1 : Math.max(r.ports[0], 1);
    const ctx = `${label}: world row ${s}→${d} ${r.proto}/${port}`;
    expect(verdictOf(before, nb, s, d, r.proto, port), ctx).toBe(r.before);
    expect(verdictOf(after, na, s, d, r.proto, port), ctx).toBe(r.after);
  }
}

/** A random model of `size` and an engine loaded with it at revision 0. */
function seededEngine(rng: ReturnType<typeof makeRng>, size: Parameters<typeof randomModel>[1]) {
  const model = randomModel(rng, size);
  const engine = new Engine();
  engine.load(oracleModelToDocuments(model), 0);
  return { model, engine };
}

describe('previewImpact', () => {
  it('reports exactly the record-pair flips a brute-force check comparison finds (random changes)', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const rng = makeRng(seed);
      const seeded = seededEngine(rng, { records: 7, policies: 5 });
      const before = seeded.engine;
      let model = seeded.model;
      const after = before.fork();
      const changes = [];
      for (let i = 0; i < rng.int(1, 3); i++) {
        const c = randomChange(rng, model);
        model = c.model;
        changes.push(c.change);
      }
      try {
        after.apply(changes, 1);
      } catch {
        continue; // an invalid random batch: nothing to preview
      }
      expectExactImpact(before, after, `seed ${seed}`);
    }
  });

  it('stays exact preview after preview on one live model whose policies change meanwhile', () => {
    // A tag set's resolved policy is memoised per policy generation, across previews and
    // forks (behaviour-classes.ts): a preview after a policy or partition change must not
    // use a resolution of the documents before it.
    for (let seed = 1; seed <= 8; seed++) {
      const rng = makeRng(seed);
      const seeded = seededEngine(rng, { records: 6, policies: 4 });
      const live = seeded.engine;
      let model = seeded.model;
      for (let step = 0; step < 4; step++) {
        const after = live.fork();
        try {
          after.apply([randomChange(rng, model).change], step + 1);
          expectExactImpact(live.fork(), after, `seed ${seed}, step ${step}`);
        } catch (err) {
          if ((err as Error).name === 'AssertionError') throw err;
        }
        const next = randomChange(rng, model);
        try {
          live.apply([next.change], step + 1);
          model = next.model;
        } catch {
          // a refused change leaves the live model as it was
        }
      }
    }
  });

  it('is empty for no change, sorted by records affected, and bounded', () => {
    const rng = makeRng(99);
    const model = randomModel(rng, { records: 30, policies: 6 });
    const e = new Engine();
    e.load(oracleModelToDocuments(model), 0);
    expect(previewImpact(e, e.fork()).rows).toEqual([]);
    const after = e.fork();
    after.apply(
      [
        {
          op: 'put',
          doc: {
            kind: 'Settings',
            name: 'default',
            defaults: { unpartitioned: 'deny', crossPartition: 'deny' },
          },
        },
      ],
      1,
    );
    const all = previewImpact(e, after, { limit: 1_000_000 });
    const weights = all.rows.map((r) => Math.max(r.src.records, 1) * Math.max(r.dst.records, 1));
    expect(weights).toEqual([...weights].sort((a, b) => b - a));
    if (all.rows.length > 3) {
      const few = previewImpact(e, after, { limit: 3 });
      expect(few.rows).toHaveLength(3);
      expect(few.truncated).toBe(all.rows.length - 3);
    }
  });

  it('whoCanReach agrees with check for every record and port (random models)', () => {
    for (let seed = 200; seed < 230; seed++) {
      const rng = makeRng(seed);
      const model = randomModel(rng, { records: 7, policies: 5 });
      const e = new Engine();
      e.load(oracleModelToDocuments(model), 0);
      const names = e.list('Interface').map((d) => d.name);
      for (const dst of names) {
        const who = whoCanReach(e, dst, { examples: 1000 });
        for (const src of names) {
          if (src === dst) continue;
          for (const proto of PROTOS)
            for (const port of proto === 'icmp' ? [1] : PORTS) {
              const want = e.check({ src, dst, protocol: proto, port }).verdict === 'allow';
              const p = proto === 'icmp' ? 0 : port;
              const got = who.some(
                (w) =>
                  w.examples.includes(src) &&
                  w.allowed.some((a) => a.proto === proto && a.ports[0] <= p && p <= a.ports[1]),
              );
              expect(got, `seed ${seed}: ${src}→${dst} ${proto}/${port}`).toBe(want);
            }
        }
      }
    }
  });
});
