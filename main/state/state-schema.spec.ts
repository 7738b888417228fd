import { describe, expect, it } from 'vitest';
import { defaultState, parseState, STATE_SCHEMA_VERSION } from './state-schema';

function nameOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).name;
  }
  return 'no error';
}

describe('parseState', () => {
  it('accepts the defaults it writes', () => {
    expect(parseState(JSON.stringify(defaultState()), 'state.json')).toEqual(defaultState());
  });

  it('keeps records of later issues it does not know yet', () => {
    const state = { ...defaultState(), keys: [{ KeyId: 'k', future: true }] };
    expect(parseState(JSON.stringify(state), 'state.json').keys).toEqual([{ KeyId: 'k', future: true }]);
  });

  it('tells a newer file from a corrupt one', () => {
    expect(nameOf(() => parseState('{', 'state.json'))).toBe('StateFileCorruptException');
    expect(nameOf(() => parseState('null', 'state.json'))).toBe('StateFileCorruptException');
    expect(nameOf(() => parseState(JSON.stringify({ schemaVersion: 0 }), 'state.json'))).toBe('StateFileCorruptException');
    expect(nameOf(() => parseState(JSON.stringify({ ...defaultState(), clusters: 'x' }), 'state.json'))).toBe('StateFileCorruptException');
    expect(nameOf(() => parseState(JSON.stringify({ schemaVersion: STATE_SCHEMA_VERSION + 1 }), 'state.json'))).toBe('StateFileVersionException');
  });
});
