import { describe, expect, it } from 'vitest';
import { lateStore } from './late-store.js';
import type { Store } from './types.js';

/** A store stand-in whose calls are recorded (only what these tests call). */
function fakeStore(calls: string[]): Store {
  return {
    backend: 'fake',
    shared: false,
    async revision() {
      calls.push('revision');
      return 7;
    },
    async changesSince(since: number) {
      calls.push(`changesSince ${since}`);
      return [];
    },
  } as unknown as Store;
}

describe('lateStore', () => {
  it('runs calls made before the open once it opened, in call order', async () => {
    const calls: string[] = [];
    let open!: (s: Store) => void;
    const { store, opened } = lateStore(new Promise<Store>((r) => (open = r)));
    const rev = store.revision();
    const changes = store.changesSince(3);
    expect(calls).toEqual([]);
    expect(() => store.backend).toThrow(/before the store opened/);
    open(fakeStore(calls));
    expect(await rev).toBe(7);
    await changes;
    expect(calls).toEqual(['revision', 'changesSince 3']);
    await opened;
    expect(store.backend).toBe('fake');
    expect(store.revision).toBe(store.revision); // bound once
    expect(await store.revision()).toBe(7);
  });

  it('fails calls made before a failed open with its error', async () => {
    const { store, opened } = lateStore(Promise.reject(new Error('locked')));
    await expect(store.revision()).rejects.toThrow('locked');
    await expect(opened).rejects.toThrow('locked');
  });
});
