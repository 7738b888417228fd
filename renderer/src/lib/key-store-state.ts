import type { ConnectionState } from '../../../shared/contract/key-stores';

export type KeyStoreAction = 'connect' | 'disconnect' | 'rename' | 'update-password' | 'delete';

export interface StateBadge {
  /** The badge class in base.css: the colour, always beside the word. */
  tone: 'ok' | 'warn' | 'bad' | 'neutral';
  text: string;
  /** True while the state is on its way to another (the page follows it). */
  moving: boolean;
}

export const STATE_BADGE: Readonly<Record<ConnectionState, StateBadge>> = {
  CONNECTED: { tone: 'ok', text: 'Connected', moving: false },
  CONNECTING: { tone: 'warn', text: 'Connecting…', moving: true },
  DISCONNECTED: { tone: 'neutral', text: 'Disconnected', moving: false },
  DISCONNECTING: { tone: 'warn', text: 'Disconnecting…', moving: true },
  FAILED: { tone: 'bad', text: 'Failed', moving: false },
};

/**
 * Which actions a state allows, as AWS's CustomKeyStoreInvalidStateException rules say: connect only from
 * DISCONNECTED (a FAILED store is disconnected first); disconnect unless already (dis)connecting away; a rename
 * also while CONNECTED; a password update and a delete only while DISCONNECTED.
 */
const ALLOWED: Readonly<Record<ConnectionState, readonly KeyStoreAction[]>> = {
  DISCONNECTED: ['connect', 'rename', 'update-password', 'delete'],
  CONNECTING: ['disconnect'],
  CONNECTED: ['disconnect', 'rename'],
  DISCONNECTING: [],
  FAILED: ['disconnect'],
};

export function allows(state: ConnectionState, action: KeyStoreAction): boolean {
  return ALLOWED[state].includes(action);
}

/** Why an action is not offered now, said so a disabled button still explains itself. */
export function whyNot(state: ConnectionState, action: KeyStoreAction): string | null {
  if (allows(state, action)) return null;
  if (state === 'FAILED' && action === 'connect') return 'A failed key store is disconnected before it connects again.';
  if (state === 'DISCONNECTING') return 'The key store is disconnecting; wait until it is disconnected.';
  if (action === 'connect') return 'The key store is already connected or connecting.';
  if (action === 'disconnect') return 'The key store is already disconnected.';
  return 'Only a disconnected key store can be changed this way: disconnect it first.';
}
