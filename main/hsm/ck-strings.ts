import { WorkbenchError } from '../../shared/errors';

/**
 * Fixed-length PKCS#11 strings (CK_INFO, CK_SLOT_INFO, CK_TOKEN_INFO: labels, manufacturerID,
 * descriptions, model, serialNumber) are blank padded by the spec, but some modules pad with NULs or
 * write a C string and leave whatever follows its terminator. This is the one place they are decoded:
 * the string ends at the first NUL, and trailing blanks are padding. Leading blanks are kept (a
 * label's are part of it).
 */
export function fixedString(value: string): string {
  const nul = value.indexOf('\0');
  return (nul === -1 ? value : value.slice(0, nul)).replace(/ +$/, '');
}

/** CK_TOKEN_INFO.label: 32 bytes of UTF-8. */
export const TOKEN_LABEL_BYTES = 32;

/**
 * The label argument of C_InitToken: exactly 32 bytes of UTF-8, blank padded, as the spec requires
 * (the module reads 32 bytes whatever the string's length). The label is not a secret, so the error may
 * name it.
 */
export function paddedTokenLabel(label: string): string {
  const bytes = Buffer.byteLength(label, 'utf8');
  if (bytes > TOKEN_LABEL_BYTES) {
    throw new WorkbenchError('ValidationException', `The token label "${label}" is ${bytes} bytes of UTF-8; a PKCS#11 token label holds at most ${TOKEN_LABEL_BYTES} bytes. Choose a shorter label.`, {
      details: { field: 'label', bytes, maxBytes: TOKEN_LABEL_BYTES },
    });
  }
  if (label.includes('\0')) {
    throw new WorkbenchError('ValidationException', 'A token label cannot contain NUL characters.', { details: { field: 'label' } });
  }
  return label + ' '.repeat(TOKEN_LABEL_BYTES - bytes);
}
