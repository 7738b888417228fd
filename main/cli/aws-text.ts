/**
 * `--output text` as the AWS CLI writes it, for scripts (`cut -f`, `read`, `base64 -d`): values tab-separated,
 * one record a line. A structure's scalars make one line in the order of their sorted keys; each of its lists or
 * structures follows on lines of its own, prefixed by its key upper-cased (KEYMETADATA, ENCRYPTIONALGORITHMS). A list
 * of structures is one line per item with the same columns for every item (the sorted union of their scalar keys, ''
 * where an item has none), a list of scalars one tab-separated line (one `KEY\tvalue` line each under a key), and a
 * bare scalar is printed as it is, so `--query CiphertextBlob --output text` is the base64 alone. Booleans and null
 * are True, False and None, the AWS CLI's (Python's) words, so scripts written for it read them unchanged.
 */
export function formatText(value: unknown): string {
  const lines: string[] = [];
  write(value, undefined, undefined, lines);
  return lines.join('\n');
}

type Structure = Record<string, unknown>;

const isStructure = (value: unknown): value is Structure => typeof value === 'object' && value !== null && !Array.isArray(value);
const isNested = (value: unknown): boolean => typeof value === 'object' && value !== null;

function scalarText(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  // A list or structure in a column another item holds a scalar in: one cell still.
  return JSON.stringify(value);
}

function write(value: unknown, key: string | undefined, columns: readonly string[] | undefined, lines: string[]): void {
  if (Array.isArray(value)) writeList(value as unknown[], key, lines);
  else if (isStructure(value)) writeStructure(value, key, columns, lines);
  else lines.push(scalarText(value));
}

function writeList(list: readonly unknown[], key: string | undefined, lines: string[]): void {
  if (list.some(isStructure)) {
    const columns = [...new Set(list.filter(isStructure).flatMap((item) => Object.keys(item).filter((k) => !isNested(item[k]))))].sort();
    for (const item of list) write(item, key, columns, lines);
    return;
  }
  const scalars = list.filter((v) => !isNested(v)).map(scalarText);
  if (scalars.length > 0) {
    if (key === undefined) lines.push(scalars.join('\t'));
    else for (const s of scalars) lines.push(`${key.toUpperCase()}\t${s}`);
  }
  for (const nested of list.filter(isNested)) write(nested, key, undefined, lines);
}

function writeStructure(item: Structure, key: string | undefined, columns: readonly string[] | undefined, lines: string[]): void {
  const keys = Object.keys(item).sort();
  const row = columns === undefined ? keys.filter((k) => !isNested(item[k])).map((k) => scalarText(item[k])) : columns.map((k) => (k in item ? scalarText(item[k]) : ''));
  const nested = keys.filter((k) => (columns === undefined ? isNested(item[k]) : !columns.includes(k)));
  if (row.length > 0) lines.push((key === undefined ? row : [key.toUpperCase(), ...row]).join('\t'));
  for (const k of nested) write(item[k], k, undefined, lines);
}
