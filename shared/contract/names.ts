import type { z } from 'zod';
import { TERMINAL_UNSAFE_CHARACTER } from '../terminal-text';

/**
 * Characters no name may hold: exactly those the CLI escapes on output (shared/terminal-text.ts), because a
 * terminal or a table would act on them instead of showing them: C0 controls (ESC starts terminal escapes),
 * DEL, C1 controls (U+009B is a one-byte CSI), the bidi embeddings, overrides, isolates and marks, and the
 * line and paragraph separators U+2028/U+2029.
 */
const UNSAFE_IN_NAME = TERMINAL_UNSAFE_CHARACTER;

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
