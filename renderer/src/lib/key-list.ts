import type { KeyState, KeySummary } from '../../../shared/contract/keys';
import type { StateBadge } from './key-store-state';

/** The key states a Keys page row can show, as AWS names them; the word beside the colour. */
export const KEY_STATE_BADGE: Readonly<Partial<Record<KeyState, Omit<StateBadge, 'moving'>>>> = {
  Creating: { tone: 'warn', text: 'Creating' },
  Enabled: { tone: 'ok', text: 'Enabled' },
  Disabled: { tone: 'neutral', text: 'Disabled' },
  PendingDeletion: { tone: 'bad', text: 'Pending deletion' },
  Unavailable: { tone: 'warn', text: 'Unavailable' },
};

/** The states a custom key store's key can be in: the state filter's choices. */
export const LISTED_KEY_STATES: readonly KeyState[] = ['Creating', 'Enabled', 'Disabled', 'PendingDeletion', 'Unavailable'];

export function keyStateBadge(state: KeyState): Omit<StateBadge, 'moving'> {
  return KEY_STATE_BADGE[state] ?? { tone: 'neutral', text: state };
}

export interface KeyFilter {
  state: KeyState | '';
  customKeyStoreId: string;
  /** Matched, case-insensitively, against the key id, its ARN, its aliases and its description. */
  search: string;
}

/** The rows the filters leave, in the order given. One pass, no copies of the rows: it runs per keystroke over 10,000 keys. */
export function filterKeys(keys: readonly KeySummary[], filter: KeyFilter): readonly KeySummary[] {
  const needle = filter.search.trim().toLowerCase();
  if (filter.state === '' && filter.customKeyStoreId === '' && needle === '') return keys;
  return keys.filter(
    (key) =>
      (filter.state === '' || key.KeyState === filter.state) &&
      (filter.customKeyStoreId === '' || key.CustomKeyStoreId === filter.customKeyStoreId) &&
      (needle === '' ||
        key.KeyId.toLowerCase().includes(needle) ||
        key.Arn.toLowerCase().includes(needle) ||
        key.Description.toLowerCase().includes(needle) ||
        key.AliasNames.some((alias) => alias.toLowerCase().includes(needle))),
  );
}

/** "10,000 keys", or "12 of 10,000 keys" while a filter hides some: the list's live count. */
export function keyCount(shown: number, total: number): string {
  const count = (n: number): string => n.toLocaleString('en-US');
  return shown === total ? `${count(total)} ${total === 1 ? 'key' : 'keys'}` : `${count(shown)} of ${count(total)} keys`;
}
