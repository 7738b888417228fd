import type { z } from 'zod';

/**
 * Characters no name may hold, because a terminal or a table would act on them instead of showing
 * them: C0 controls (ESC starts terminal escapes), DEL, C1 controls (U+009B is a one-byte CSI),
 * the bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069 reorder what follows)
 * and the line and paragraph separators U+2028/U+2029.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_IN_NAME = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The one refinement every free-text name in a request goes through. An empty value passes here, so
 * a required name reports only its own "is required" issue. The issue names the first offending
 * character and its position, never the rest of the value.
 */
export function printableName<T extends z.ZodString>(field: string, schema: T, advice = 'names hold printable text only'): T {
  return schema.check((ctx) => {
    const match = UNSAFE_IN_NAME.exec(ctx.value);
    if (match === null) return;
    ctx.issues.push({
      code: 'custom',
      input: ctx.value,
      message: `${field} has an invisible or control character (${codePoint(match[0])} at position ${match.index + 1}); ${advice}`,
    });
  });
}
