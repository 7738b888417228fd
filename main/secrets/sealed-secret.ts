import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { WorkbenchError } from '../../shared/errors';

/**
 * A secret sealed with the vault key: AES-256-GCM, the context as additional authenticated data, so a
 * sealed kmsuser password copied to another key store's record (or edited) does not open. Plain JSON of
 * base64 fields, safe in the state file: without the vault key it is noise.
 */
const base64 = (bytes?: number): z.ZodString => {
  const field = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64');
  return bytes === undefined ? field : field.refine((text) => Buffer.from(text, 'base64').length === bytes, `not ${bytes} bytes`);
};

export const SEALED_SECRET_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export const SealedSecretSchema = z.strictObject({
  v: z.literal(SEALED_SECRET_VERSION),
  /** The vault that sealed it (secrets/vault.json `kid`). */
  kid: z.string().regex(/^[0-9a-f]{32}$/),
  iv: base64(IV_BYTES),
  ct: base64(),
  tag: base64(TAG_BYTES),
});
export type SealedSecret = z.infer<typeof SealedSecretSchema>;

export function sealWithKey(key: Buffer, kid: string, plaintext: string, context: string): SealedSecret {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { v: SEALED_SECRET_VERSION, kid, iv: iv.toString('base64'), ct: ct.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
}

export function openWithKey(key: Buffer, kid: string, sealed: unknown, context: string): string {
  const parsed = SealedSecretSchema.safeParse(sealed);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : ` (${issue.path.join('.')}: ${issue.message})`;
    throw new WorkbenchError('SecretStoreException', `The sealed secret for ${context} is not a sealed secret of version ${SEALED_SECRET_VERSION}${where}. It was left untouched; set the secret again (for a key store: update-custom-key-store --key-store-password-stdin).`, {
      code: 'SEALED_SECRET_INVALID',
      details: { context },
    });
  }
  const { data } = parsed;
  if (data.kid !== kid) {
    throw new WorkbenchError(
      'SecretStoreException',
      `The sealed secret for ${context} was sealed by another vault (key id ${data.kid}; this state directory's vault is ${kid}): its key is not here, so it cannot be opened. ` +
        'Was the state file copied from another machine or state directory? Set the secret again here (for a key store: update-custom-key-store --key-store-password-stdin).',
      { code: 'OTHER_VAULT', details: { context, sealedKid: data.kid, vaultKid: kid } },
    );
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(data.iv, 'base64'), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(data.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data.ct, 'base64')), decipher.final()]).toString('utf8');
  } catch (error) {
    // GCM cannot tell the two apart: both fail the same tag check. Neither leaks anything.
    throw new WorkbenchError(
      'SecretStoreException',
      `The sealed secret for ${context} did not open: it was changed after sealing, or it was sealed for another context (another key store's record). ` +
        'Nothing was changed. Restore the state file from a backup, or set the secret again (for a key store: update-custom-key-store --key-store-password-stdin).',
      { code: 'SEALED_SECRET_REJECTED', details: { context }, cause: error },
    );
  }
}
