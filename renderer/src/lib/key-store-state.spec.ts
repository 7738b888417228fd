import { describe, expect, it } from 'vitest';
import type { ConnectionState } from '../../../shared/contract/key-stores';
import { allows, whyNot, type KeyStoreAction } from './key-store-state';

const STATES: ConnectionState[] = ['CONNECTED', 'CONNECTING', 'DISCONNECTED', 'DISCONNECTING', 'FAILED'];
const ACTIONS: KeyStoreAction[] = ['connect', 'disconnect', 'rename', 'update-password', 'delete'];

describe('key-store actions by connection state (AWS CustomKeyStoreInvalidStateException rules)', () => {
  it('offers exactly the actions AWS accepts in each state', () => {
    const offered = Object.fromEntries(STATES.map((state) => [state, ACTIONS.filter((action) => allows(state, action))]));
    expect(offered).toEqual({
      CONNECTED: ['disconnect', 'rename'],
      CONNECTING: ['disconnect'],
      DISCONNECTED: ['connect', 'rename', 'update-password', 'delete'],
      DISCONNECTING: [],
      FAILED: ['disconnect'],
    });
  });

  it('says why for every action it does not offer, and nothing for the ones it does', () => {
    for (const state of STATES) for (const action of ACTIONS) expect(whyNot(state, action) === null).toBe(allows(state, action));
    expect(whyNot('FAILED', 'connect')).toMatch(/disconnected before it connects again/);
    expect(whyNot('CONNECTED', 'delete')).toMatch(/disconnect it first/);
  });
});
