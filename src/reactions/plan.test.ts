import { describe, expect, it } from 'vitest';
import type { Reaction } from '../model/types.js';
import { planReactions, reactionFires, undoExpiry } from './plan.js';

const Q: Reaction = { name: 'q', on: 'ids.alert', addTags: { quarantine: true }, ttl: 300 };
const DEMOTE: Reaction = {
  name: 'demote',
  on: 'ids.alert',
  match: 'tier >= 2',
  removeTags: ['trusted'],
  addTags: { tier: 1 },
};

describe('planReactions', () => {
  it('fires on the type and match, in name order, with an expiry per ttl', () => {
    const p = planReactions({
      type: 'ids.alert',
      record: 'r',
      tags: { tier: 3, trusted: true },
      reactions: [Q, DEMOTE, { name: 'other', on: 'x' }],
      now: 0,
    });
    expect(p.fired).toEqual(['demote', 'q']);
    expect(p.tags).toEqual({ tier: 1, quarantine: true });
    expect(p.changed).toBe(true);
    expect(p.expiries).toEqual([
      {
        record: 'r',
        reaction: 'q',
        expiresAt: '1970-01-01T00:05:00.000Z',
        set: { quarantine: true },
        removed: [],
        prior: {},
      },
    ]);
    expect(reactionFires(DEMOTE, 'ids.alert', { tier: 1 })).toBe(false);
    expect(reactionFires(DEMOTE, 'ids.alert', { tier: '3' })).toBe(false);
  });

  it('undo restores exactly: set keys back or away, removed keys back, others untouched, idempotent', () => {
    const x = {
      set: { quarantine: true, tier: 1 },
      removed: ['trusted'],
      prior: { tier: 3, trusted: true },
    };
    const after = { quarantine: true, tier: 1, env: 'prod' };
    const undone = undoExpiry(after, x);
    expect(undone).toEqual({ tier: 3, trusted: true, env: 'prod' });
    expect(undoExpiry(undone, x)).toEqual(undone);
    // Someone changed tier meanwhile: their value wins.
    expect(undoExpiry({ quarantine: true, tier: 5 }, x)).toEqual({ tier: 5, trusted: true });
    // JSON values compare by content.
    expect(
      undoExpiry({ o: { a: [1, 2] } }, { set: { o: { a: [1, 2] } }, removed: [], prior: {} }),
    ).toEqual({});
  });
});
