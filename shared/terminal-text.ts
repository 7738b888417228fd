/**
 * Text from HSMs, the state file and the command line is printed to terminals, and a terminal obeys
 * what it is sent: a token labelled "\x1b]0;pwned\x07" retitles the window, "\x1b[2J" clears it, U+202E
 * reverses what follows (Trojan Source), U+2028 breaks a line where no newline shows. These are the code
 * points no output of ours may carry raw; they are shown as visible escapes instead.
 *
 * C0 controls (with TAB and LF: a label's newline would forge a line of output), DEL, C1 controls
 * (U+009B is CSI on its own), the bidi embeddings, overrides, isolates and marks, and the Unicode line
 * and paragraph separators.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const ANY_UNSAFE = new RegExp(UNSAFE.source);
/** One unsafe code point (not global: for `test` and `exec`). Names in requests refuse what output escapes. */
export const TERMINAL_UNSAFE_CHARACTER = ANY_UNSAFE;
// What JSON.stringify leaves raw; C0 it already escapes (the only raw C0 in its output is its own layout).
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const hex = (c: string, digits: number): string => (c.codePointAt(0) ?? 0).toString(16).padStart(digits, '0');

/** One string made safe for a terminal: every unsafe code point becomes `\xHH` (up to U+00FF) or `\uHHHH`. */
export function escapeTerminalText(text: string): string {
  // Most text has nothing to escape: test first, so listing 10,000 records copies no string twice.
  return ANY_UNSAFE.test(text) ? text.replace(UNSAFE, (c) => (c <= '\u00ff' ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`)) : text;
}

/**
 * A copy of plain data (strings, arrays, objects: DTOs, ErrorInfo) with every string, keys included,
 * made safe for a terminal. Text output formats values after this, so the layout's own newlines stay.
 */
export function terminalSafe<T>(value: T): T {
  return escapeValue(value) as T;
}

function escapeValue(value: unknown): unknown {
  if (typeof value === 'string') return escapeTerminalText(value);
  if (Array.isArray(value)) return value.map(escapeValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [escapeTerminalText(k), escapeValue(v)]));
  }
  return value;
}

/**
 * JSON for a terminal or a log viewer. JSON.stringify escapes C0 but leaves DEL, C1, the bidi controls
 * and U+2028/U+2029 raw; those can stand only inside JSON strings, where `\uHHHH` means the same
 * character, so the parsed value is unchanged.
 */
export function terminalSafeJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(UNSAFE_IN_JSON, (c) => `\\u${hex(c, 4)}`);
}
