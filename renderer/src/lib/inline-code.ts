/** Splits `text with `commands` in it` into plain and code parts, so remedies render commands as code without v-html. */
export function inlineCodeParts(text: string): Array<{ text: string; code: boolean }> {
  return text
    .split('`')
    .map((part, index) => ({ text: part, code: index % 2 === 1 }))
    .filter((part) => part.text !== '');
}
