import { z } from 'zod';

/*
 * The credentials requests carry, defined once. All are secret: every operation that takes one lists it in
 * its secretFields, so it is never audited, logged or echoed.
 */

/** A kmsuser password, named as the field that carries it: 7 to 32 characters, as AWS KMS requires of KeyStorePassword. */
export function kmsuserPasswordField(name = 'the kmsuser password'): z.ZodString {
  return z.string().min(7, `${name} is 7 to 32 characters`).max(32, `${name} is 7 to 32 characters`);
}

export const KmsuserPassword = kmsuserPasswordField();

/** The token's security officer PIN: asked for when needed, never stored. */
export const SoPin = z.string().min(1, 'the SO PIN is required').max(255, 'the SO PIN is at most 255 characters');
