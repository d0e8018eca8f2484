import { describe, expect, it } from 'vitest';
import type { SetDecl } from './table.js';
import { ELEMENTS_PER_COMMAND, elementCommands } from './transaction.js';

const map: SetDecl = {
  name: 'eg-256-p',
  type: ['mark', 'inet_proto', 'inet_service'],
  map: 'verdict',
  flags: ['interval'],
  elems: new Map(),
  sigs: new Map(),
};
const elem = (i: number) => [{ concat: [1000 + i, 'tcp', { range: [80, 80] }] }, { return: null }];
const lengths = (cmds: ReturnType<typeof elementCommands>, op: string) =>
  cmds.map((c) => (c[op] as { element: { elem: unknown[] } }).element.elem.length);

describe('elementCommands', () => {
  it('splits elements into commands that each fit one netlink message', () => {
    const elems = Array.from({ length: 2 * ELEMENTS_PER_COMMAND + 44 }, (_, i) => elem(i));
    const adds = elementCommands('add', map, elems);
    expect(lengths(adds, 'add')).toEqual([ELEMENTS_PER_COMMAND, ELEMENTS_PER_COMMAND, 44]);
    // In order, nothing lost or repeated.
    expect(adds.flatMap((c) => (c.add as { element: { elem: unknown[] } }).element.elem)).toEqual(
      elems,
    );
  });

  it('deletes map elements by key, in the same chunks', () => {
    const elems = Array.from({ length: ELEMENTS_PER_COMMAND + 1 }, (_, i) => elem(i));
    const dels = elementCommands('delete', map, elems);
    expect(lengths(dels, 'delete')).toEqual([ELEMENTS_PER_COMMAND, 1]);
    expect((dels[1]!.delete as { element: { elem: unknown[] } }).element.elem).toEqual([
      elems[ELEMENTS_PER_COMMAND]![0],
    ]);
  });

  it('no elements, no command', () => {
    expect(elementCommands('add', map, [])).toEqual([]);
  });
});
