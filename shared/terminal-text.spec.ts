import { describe, expect, it } from 'vitest';
import { escapeTerminalText, terminalSafe, terminalSafeJson } from './terminal-text';

// Every code point a terminal may act on, by class (the hostile token label of the issue among them).
const HOSTILE = '\x1b[31mEVIL\x1b[0m\x1b]0;pwned\x07';
const UNSAFE_SAMPLES = ['\x00', '\x07', '\t', '\n', '\r', '\x1b', '\x1f', '\x7f', '\x80', '\x85', '\x9b', '\x9f', '\u061c', '\u200e', '\u200f', '\u2028', '\u2029', '\u202a', '\u202e', '\u2066', '\u2069'];
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('terminal-safe text', () => {
  it('shows control, bidi and separator characters as visible escapes', () => {
    expect(escapeTerminalText(HOSTILE)).toBe('\\x1b[31mEVIL\\x1b[0m\\x1b]0;pwned\\x07');
    expect(escapeTerminalText('\x9b2J \u202eabc \u2028 \x7f \n')).toBe('\\x9b2J \\u202eabc \\u2028 \\x7f \\x0a');
    for (const c of UNSAFE_SAMPLES) expect(escapeTerminalText(`a${c}b`)).not.toMatch(RAW);
  });

  it('leaves printable text alone, non-Latin and emoji included', () => {
    for (const text of ['demo-hsm-1', 'C:\\HSM\\cloudhsm.dll', 'Schlüssel ключ 鍵 🔑', 'a\u00a0b', '']) expect(escapeTerminalText(text)).toBe(text);
  });

  it('makes every string of plain data safe, keys included, and keeps the shape', () => {
    const value = { Label: HOSTILE, Env: { [`K${'\x1b'}`]: '\u202e' }, List: [HOSTILE, 3, null, true], Missing: undefined };
    expect(terminalSafe(value)).toEqual({
      Label: '\\x1b[31mEVIL\\x1b[0m\\x1b]0;pwned\\x07',
      Env: { 'K\\x1b': '\\u202e' },
      List: ['\\x1b[31mEVIL\\x1b[0m\\x1b]0;pwned\\x07', 3, null, true],
      Missing: undefined,
    });
  });

  it('JSON output carries no raw C1, bidi or separator character and parses back to the same value', () => {
    const value = { Label: `${HOSTILE}${UNSAFE_SAMPLES.join('')}`, Nested: [{ Name: '\u2028\u202e' }] };
    const json = terminalSafeJson(value);
    expect(json.replaceAll('\n', '')).not.toMatch(RAW);
    expect(JSON.parse(json)).toEqual(value);
    expect(json).toContain('\\u009b');
    expect(json).toContain('\\u202e');
  });
});
