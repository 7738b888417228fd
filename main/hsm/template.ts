import pkcs11js from 'pkcs11js';
import type { Attribute, AttributeResult, Template } from 'pkcs11js';
import type { ObjectAttributeName, ObjectAttributes, ObjectInfo, ObjectTemplate } from './hsm-host';
import { bytesFromHex, readUlong, ulongBytes } from './handles';
import { ckmName, ckmValue } from './ckm';
import { constantNames, constantValues, unknownName } from './pkcs11-constants';

/**
 * The one converter between the camelCase attribute names the core uses (graphene style) and PKCS#11 CKA_
 * attributes, both ways: an ObjectTemplate becomes the pkcs11js template of a create, generate, unwrap,
 * search or set; a C_GetAttributeValue result becomes an ObjectInfo. Values cross as plain data: CKO_/CKK_/
 * CKC_/CKM_ names, hex for byte strings, numbers for CK_ULONGs. Every CK_ULONG (one, or CKA_ALLOWED_MECHANISMS'
 * array of them) is in the module's width, which the caller passes (8 bytes on Linux, 4 on Windows).
 */

const CKO_NAMES = constantNames('CKO_');
const CKO_VALUES = constantValues('CKO_');
// CKK_EC and CKK_ECDSA, CKK_CAST128 and CKK_CAST5 share values: show the current spec's names.
const CKK_NAMES = constantNames('CKK_', ['CKK_EC', 'CKK_CAST128']);
const CKK_VALUES = constantValues('CKK_');
const CKC_NAMES = constantNames('CKC_');
const CKC_VALUES = constantValues('CKC_');

type Value = NonNullable<Attribute['value']>;

interface Codec<T> {
  /** Throws RangeError naming the attribute (never its value) when `value` is not a T. */
  encode(value: unknown, name: string, ulongWidth: number): Value;
  decode(value: Buffer, ulongWidth: number): T;
}

/** Echoes a constant name that was not found, but nothing that is not shaped like one. */
function unknown(what: string, value: unknown): RangeError {
  const shown = typeof value === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(value) ? value : '(not a constant name)';
  return new RangeError(`unknown ${what} ${shown}`);
}

function named(names: ReadonlyMap<number, string>, values: ReadonlyMap<string, number>, prefix: string, what: string): Codec<string> {
  return {
    encode: (value) => {
      const code = typeof value === 'string' ? values.get(value) : undefined;
      if (code === undefined) throw unknown(what, value);
      return code;
    },
    decode: (value) => {
      const n = readUlong(value);
      return names.get(n) ?? unknownName(prefix, n);
    },
  };
}

const mechanismName: Codec<string> = {
  encode: (value) => mechanismCode(value),
  decode: (value) => ckmName(readUlong(value)),
};

function mechanismCode(value: unknown): number {
  const code = typeof value === 'string' ? ckmValue(value) : undefined;
  if (code === undefined) throw unknown('mechanism', value);
  return code;
}

/** CKA_ALLOWED_MECHANISMS: an array of CK_MECHANISM_TYPE (CK_ULONG) in the module's width. */
const mechanismList: Codec<string[]> = {
  encode: (value, name, width) => {
    if (!Array.isArray(value)) throw new RangeError(`${name} must be a list of CKM_ names`);
    return ulongBytes(value.map((m: unknown) => mechanismCode(m)), width);
  },
  decode: (value, width) => {
    const names: string[] = [];
    for (let at = 0; at + width <= value.length; at += width) names.push(ckmName(readUlong(value.subarray(at, at + width))));
    return names;
  },
};

const bool: Codec<boolean> = {
  encode: (value, name) => {
    if (typeof value !== 'boolean') throw new RangeError(`${name} must be true or false`);
    return value;
  },
  decode: (value) => value.length > 0 && value[0] !== 0,
};

const hex: Codec<string> = {
  encode: (value, name) => bytesFromHex(value, name),
  decode: (value) => value.toString('hex'),
};

const utf8: Codec<string> = {
  encode: (value, name) => {
    if (typeof value !== 'string') throw new RangeError(`${name} must be a string`);
    return value;
  },
  decode: (value) => value.toString('utf8'),
};

const ulong: Codec<number> = {
  encode: (value, name) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer`);
    return value;
  },
  decode: (value) => readUlong(value),
};

type AttributeName = keyof ObjectAttributes;

/** CKA_ type and codec of every attribute name. `handle` is not an attribute (see attributeQuery). */
const ATTRIBUTES: { readonly [K in AttributeName]-?: { type: number; codec: Codec<NonNullable<ObjectAttributes[K]>> } } = {
  class: { type: pkcs11js.CKA_CLASS, codec: named(CKO_NAMES, CKO_VALUES, 'CKO_', 'object class') },
  keyType: { type: pkcs11js.CKA_KEY_TYPE, codec: named(CKK_NAMES, CKK_VALUES, 'CKK_', 'key type') },
  label: { type: pkcs11js.CKA_LABEL, codec: utf8 },
  id: { type: pkcs11js.CKA_ID, codec: hex },
  token: { type: pkcs11js.CKA_TOKEN, codec: bool },
  private: { type: pkcs11js.CKA_PRIVATE, codec: bool },
  sensitive: { type: pkcs11js.CKA_SENSITIVE, codec: bool },
  extractable: { type: pkcs11js.CKA_EXTRACTABLE, codec: bool },
  modifiable: { type: pkcs11js.CKA_MODIFIABLE, codec: bool },
  encrypt: { type: pkcs11js.CKA_ENCRYPT, codec: bool },
  decrypt: { type: pkcs11js.CKA_DECRYPT, codec: bool },
  sign: { type: pkcs11js.CKA_SIGN, codec: bool },
  verify: { type: pkcs11js.CKA_VERIFY, codec: bool },
  wrap: { type: pkcs11js.CKA_WRAP, codec: bool },
  unwrap: { type: pkcs11js.CKA_UNWRAP, codec: bool },
  derive: { type: pkcs11js.CKA_DERIVE, codec: bool },
  wrapWithTrusted: { type: pkcs11js.CKA_WRAP_WITH_TRUSTED, codec: bool },
  trusted: { type: pkcs11js.CKA_TRUSTED, codec: bool },
  alwaysSensitive: { type: pkcs11js.CKA_ALWAYS_SENSITIVE, codec: bool },
  neverExtractable: { type: pkcs11js.CKA_NEVER_EXTRACTABLE, codec: bool },
  local: { type: pkcs11js.CKA_LOCAL, codec: bool },
  modulusBits: { type: pkcs11js.CKA_MODULUS_BITS, codec: ulong },
  modulus: { type: pkcs11js.CKA_MODULUS, codec: hex },
  publicExponent: { type: pkcs11js.CKA_PUBLIC_EXPONENT, codec: hex },
  valueLen: { type: pkcs11js.CKA_VALUE_LEN, codec: ulong },
  value: { type: pkcs11js.CKA_VALUE, codec: hex },
  certificateType: { type: pkcs11js.CKA_CERTIFICATE_TYPE, codec: named(CKC_NAMES, CKC_VALUES, 'CKC_', 'certificate type') },
  subject: { type: pkcs11js.CKA_SUBJECT, codec: hex },
  issuer: { type: pkcs11js.CKA_ISSUER, codec: hex },
  serialNumber: { type: pkcs11js.CKA_SERIAL_NUMBER, codec: hex },
  checkValue: { type: pkcs11js.CKA_CHECK_VALUE, codec: hex },
  allowedMechanisms: { type: pkcs11js.CKA_ALLOWED_MECHANISMS, codec: mechanismList },
  keyGenMechanism: { type: pkcs11js.CKA_KEY_GEN_MECHANISM, codec: mechanismName },
};

function isAttributeName(name: string): name is AttributeName {
  return Object.prototype.hasOwnProperty.call(ATTRIBUTES, name);
}

/**
 * An ObjectTemplate as a pkcs11js template. Throws RangeError naming the attribute (never its value) for an
 * unknown attribute, an unknown CKO_/CKK_/CKC_/CKM_ name, bad hex or a value of the wrong kind.
 */
export function toPkcs11Template(template: ObjectTemplate, ulongWidth: number): Template {
  if (typeof template !== 'object' || template === null) throw new RangeError('the template must be an object');
  const out: Attribute[] = [];
  for (const [name, value] of Object.entries(template)) {
    if (value === undefined) continue;
    if (!isAttributeName(name)) throw new RangeError(`${name} is not an attribute the workbench knows`);
    const { type, codec } = ATTRIBUTES[name];
    out.push({ type, value: codec.encode(value, name, ulongWidth) });
  }
  return out;
}

/**
 * The C_GetAttributeValue template reading `attributes` (the session-scoped `handle` is not read). The names are
 * typed by the caller; one this table lacks is a workbench defect, and fails as one (a TypeError).
 */
export function attributeQuery(attributes: readonly ObjectAttributeName[]): Template {
  const query: Template = [];
  for (const name of attributes) if (name !== 'handle') query.push({ type: ATTRIBUTES[name].type });
  return query;
}

const NAME_BY_TYPE = new Map<number, AttributeName>((Object.keys(ATTRIBUTES) as AttributeName[]).map((name) => [ATTRIBUTES[name].type, name]));

/** Fills `into` from a C_GetAttributeValue result. */
export function decodeAttributes(results: readonly AttributeResult[], into: ObjectInfo, ulongWidth: number): ObjectInfo {
  const target = into as Record<string, unknown>;
  for (const { type, value } of results) {
    const name = NAME_BY_TYPE.get(type);
    if (name !== undefined) target[name] = ATTRIBUTES[name].codec.decode(value, ulongWidth);
  }
  return into;
}
