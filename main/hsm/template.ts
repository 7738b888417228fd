import pkcs11js from 'pkcs11js';
import type { Attribute, AttributeResult, Template } from 'pkcs11js';
import type { ObjectAttributeName, ObjectInfo, ObjectTemplate } from './hsm-host';
import { readUlong } from './handles';
import { constantNames, constantValues, unknownName } from './pkcs11-constants';

/**
 * The one converter between the camelCase attribute names the core uses (graphene style) and
 * PKCS#11 CKA_ attributes. Values cross as plain data: CKO_/CKK_ names, hex for byte strings.
 */

const CKO_NAMES = constantNames('CKO_');
const CKO_VALUES = constantValues('CKO_');
// CKK_EC and CKK_ECDSA, CKK_CAST128 and CKK_CAST5 share values: show the current spec's names.
const CKK_NAMES = constantNames('CKK_', ['CKK_EC', 'CKK_CAST128']);
const CKK_VALUES = constantValues('CKK_');

type Decoder = (value: Buffer) => string | number | boolean;

const ulongName = (names: ReadonlyMap<number, string>, prefix: string): Decoder => (value) => {
  const n = readUlong(value);
  return names.get(n) ?? unknownName(prefix, n);
};
const bool: Decoder = (value) => value.length > 0 && value[0] !== 0;
const hex: Decoder = (value) => value.toString('hex');

/** CKA_ type and decoder of every readable attribute name. `handle` is not an attribute (see below). */
const ATTRIBUTES: Readonly<Record<Exclude<ObjectAttributeName, 'handle'>, { type: number; decode: Decoder }>> = {
  class: { type: pkcs11js.CKA_CLASS, decode: ulongName(CKO_NAMES, 'CKO_') },
  label: { type: pkcs11js.CKA_LABEL, decode: (value) => value.toString('utf8') },
  id: { type: pkcs11js.CKA_ID, decode: hex },
  keyType: { type: pkcs11js.CKA_KEY_TYPE, decode: ulongName(CKK_NAMES, 'CKK_') },
  token: { type: pkcs11js.CKA_TOKEN, decode: bool },
  private: { type: pkcs11js.CKA_PRIVATE, decode: bool },
  sensitive: { type: pkcs11js.CKA_SENSITIVE, decode: bool },
  extractable: { type: pkcs11js.CKA_EXTRACTABLE, decode: bool },
  valueLen: { type: pkcs11js.CKA_VALUE_LEN, decode: readUlong },
  checkValue: { type: pkcs11js.CKA_CHECK_VALUE, decode: hex },
};

function named(values: ReadonlyMap<string, number>, name: string, what: string): number {
  const value = values.get(name);
  if (value === undefined) throw new RangeError(`unknown ${what} ${name}`);
  return value;
}

/** An ObjectTemplate as a pkcs11js search template. Throws RangeError for an unknown CKO_/CKK_ name or bad hex. */
export function toPkcs11Template(template: ObjectTemplate): Template {
  const out: Attribute[] = [];
  if (template.class !== undefined) out.push({ type: pkcs11js.CKA_CLASS, value: named(CKO_VALUES, template.class, 'object class') });
  if (template.keyType !== undefined) out.push({ type: pkcs11js.CKA_KEY_TYPE, value: named(CKK_VALUES, template.keyType, 'key type') });
  if (template.label !== undefined) out.push({ type: pkcs11js.CKA_LABEL, value: template.label });
  if (template.id !== undefined) {
    if (!/^([0-9a-fA-F]{2})*$/.test(template.id)) throw new RangeError('id must be hex');
    out.push({ type: pkcs11js.CKA_ID, value: Buffer.from(template.id, 'hex') });
  }
  if (template.token !== undefined) out.push({ type: pkcs11js.CKA_TOKEN, value: template.token });
  return out;
}

/** The C_GetAttributeValue template reading `attributes` (the session-scoped `handle` is not read). */
export function attributeQuery(attributes: readonly ObjectAttributeName[]): Template {
  const query: Template = [];
  for (const name of attributes) if (name !== 'handle') query.push({ type: ATTRIBUTES[name].type });
  return query;
}

const NAME_BY_TYPE = new Map<number, Exclude<ObjectAttributeName, 'handle'>>(
  (Object.keys(ATTRIBUTES) as Array<Exclude<ObjectAttributeName, 'handle'>>).map((name) => [ATTRIBUTES[name].type, name]),
);

/** Fills `into` from a C_GetAttributeValue result. */
export function decodeAttributes(results: readonly AttributeResult[], into: ObjectInfo): ObjectInfo {
  const target = into as Record<string, unknown>;
  for (const { type, value } of results) {
    const name = NAME_BY_TYPE.get(type);
    if (name !== undefined) target[name] = ATTRIBUTES[name].decode(value);
  }
  return into;
}
