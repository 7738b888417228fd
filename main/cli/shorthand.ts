/**
 * The AWS CLI's shorthand for a flat structure or map: `TagKey=Purpose,TagValue=test`. Keys and values are
 * separated by the first `=`, pairs by `,`; a value may be quoted ('…' or "…", a backslash escapes the quote) or
 * carry `\,` and `\\`, so a comma can be part of it. Surrounding whitespace is dropped, an empty value is kept
 * (a TagValue may be ""). Nested lists and structures are JSON's job, as they are the AWS CLI's in practice.
 */

/** A shorthand text that does not parse: the message says where and what was expected. */
export class ShorthandError extends Error {}

/** The pairs of one shorthand text, in order; a key given twice is refused (the AWS CLI would keep one silently). */
export function parseShorthand(text: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  let at = 0;
  for (;;) {
    const eq = text.indexOf('=', at);
    const comma = text.indexOf(',', at);
    if (eq === -1 || (comma !== -1 && comma < eq)) {
      const piece = text.slice(at, comma === -1 ? undefined : comma).trim();
      throw new ShorthandError(`Expected key=value at character ${at + 1}, found ${piece === '' ? 'nothing' : `"${piece}" with no "="`}. Pairs are separated by ",", e.g. Key1=value1,Key2=value2; a comma inside a value needs quotes or a backslash.`);
    }
    const key = text.slice(at, eq).trim();
    if (key === '') throw new ShorthandError(`Expected a key before the "=" at character ${eq + 1}.`);
    if (Object.hasOwn(pairs, key)) throw new ShorthandError(`The key ${key} is given twice.`);
    const [value, end] = readValue(text, eq + 1);
    pairs[key] = value;
    if (end >= text.length) return pairs;
    at = end + 1;
  }
}

const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);

/** The value starting at `start` and the index of the "," that ends it (or the text's length). */
function readValue(text: string, start: number): [value: string, end: number] {
  let i = start;
  while (isSpace(text[i])) i++;
  const quote = text[i];
  if (quote === '"' || quote === "'") {
    let value = '';
    for (i++; i < text.length && text[i] !== quote; i++) {
      if (text[i] === '\\' && (text[i + 1] === quote || text[i + 1] === '\\')) i++;
      value += text[i];
    }
    if (i >= text.length) throw new ShorthandError(`The value quoted at character ${start + 1} has no closing ${quote}.`);
    let end = i + 1;
    while (isSpace(text[end])) end++;
    if (end < text.length && text[end] !== ',') throw new ShorthandError(`Expected "," after the quoted value ending at character ${i + 1}.`);
    return [value, end];
  }
  let value = '';
  for (i = start; i < text.length && text[i] !== ','; i++) {
    if (text[i] === '\\' && (text[i + 1] === ',' || text[i + 1] === '\\')) i++;
    value += text[i];
  }
  return [value.trim(), i];
}
