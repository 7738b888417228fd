import { randomBytes } from 'node:crypto';
import { statSync, type Stats } from 'node:fs';
import pkcs11js from 'pkcs11js';
import type { PKCS11 } from 'pkcs11js';
import type { MechanismInfo, ModuleInfo, SlotInfo, TokenInfo } from '../../shared/contract/hsm';
import { WorkbenchError } from '../../shared/errors';
import { ckf, mechanismFlagNames, sessionFlagNames, sessionStateName, slotFlagNames, tokenFlagNames } from './ckf';
import { fixedString, paddedTokenLabel } from './ck-strings';
import { ckmName, toPkcs11Mechanism } from './ckm';
import { ckrMessage, ckrName } from './ckr';
import { bytesFromHex, handleFromString, handleToString } from './handles';
import type { FindObjectsQuery, KeyPairHandles, Mechanism, ObjectAttributeName, ObjectInfo, ObjectTemplate, SessionInfoDto } from './hsm-host';
import { attributeQuery, decodeAttributes, toPkcs11Template } from './template';
import { TokenLogins, type UserType } from './token-logins';

const DEFAULT_PAGE_SIZE = 1024;
/**
 * Output room for one-part operations (pkcs11js has no length query): a signature or RSA block up to 16384-bit
 * keys, an encryption's input plus padding and tag, a wrapped RSA-4096 private key. Too small → CKR_BUFFER_TOO_SMALL.
 */
const OUTPUT_ROOM = 2048;
const WRAPPED_KEY_MAX = 16_384;
const RANDOM_MAX = 4096;
/** Classes whose CKA_VALUE is key material, whatever their other attributes say. */
const KEY_MATERIAL_CLASSES: readonly string[] = ['CKO_SECRET_KEY', 'CKO_PRIVATE_KEY'];

/**
 * One PKCS#11 module, loaded and initialised in this (child) process. Speaks the spec's nouns and
 * returns plain DTOs; every failure leaves as a WorkbenchError whose message names the function,
 * the CKR_ code and a remedy — never an argument value (a PIN is an argument of C_Login).
 */
export class Pkcs11Module {
  /** Session references carry this instance's tag, so a reference from a previous (crashed) child is refused, not misused. */
  private readonly instance = randomBytes(4).toString('hex');
  private readonly sessions = new Map<string, { handle: Buffer; slotId: string }>();
  private readonly logins = new TokenLogins();
  /** CK_ULONG width: 4 bytes on Windows (LLP64), 8 elsewhere; confirmed from the first slot list. */
  private handleWidth = process.platform === 'win32' ? 4 : 8;

  private constructor(
    readonly path: string,
    private readonly lib: PKCS11,
  ) {}

  /** Loads the library and calls C_Initialize with CKF_OS_LOCKING_OK (p11-kit's client refuses anything else). */
  static load(path: string): Pkcs11Module {
    assertLoadableFile(path);
    const lib = new pkcs11js.PKCS11();
    try {
      lib.load(path);
    } catch (error) {
      throw loadError(path, error);
    }
    try {
      lib.C_Initialize({ flags: ckf('CKF_OS_LOCKING_OK') });
    } catch (error) {
      const code = pkcs11Code(error);
      if (code !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
        closeQuietly(lib);
        throw new WorkbenchError(
          'Pkcs11ModuleLoadException',
          `The PKCS#11 module ${path} loaded, but C_Initialize failed${code ? ` with ${code}` : ''}. Check the module's configuration and environment (e.g. SOFTHSM2_CONF, P11_KIT_SERVER_ADDRESS, the vendor's client configuration) and that its HSM is reachable.`,
          { code: 'INITIALIZE_FAILED', details: { modulePath: path, ...(code ? { ckr: code } : {}) } },
        );
      }
    }
    return new Pkcs11Module(path, lib);
  }

  getModuleInfo(): ModuleInfo {
    const info = this.call('C_GetInfo', () => this.lib.C_GetInfo());
    return {
      ModulePath: this.path,
      CryptokiVersion: version(info.cryptokiVersion),
      ManufacturerId: fixedString(info.manufacturerID),
      LibraryDescription: fixedString(info.libraryDescription),
      LibraryVersion: version(info.libraryVersion),
    };
  }

  listSlots(): SlotInfo[] {
    const slots = this.call('C_GetSlotList', () => this.lib.C_GetSlotList(false));
    const first = slots[0];
    if (first) this.handleWidth = first.length;
    return slots.map((slot) => {
      const info = this.call('C_GetSlotInfo', () => this.lib.C_GetSlotInfo(slot));
      const flags = slotFlagNames(info.flags);
      const token = this.presentToken(slot, flags);
      return {
        SlotId: handleToString(slot),
        SlotDescription: fixedString(info.slotDescription),
        ManufacturerId: fixedString(info.manufacturerID),
        Flags: token === null ? flags.filter((f) => f !== 'CKF_TOKEN_PRESENT') : flags,
        TokenPresent: token !== null,
        Token: token,
      };
    });
  }

  getMechanisms(slotId: string): MechanismInfo[] {
    const slot = this.slot(slotId);
    const list = this.call('C_GetMechanismList', () => this.lib.C_GetMechanismList(slot));
    return list.map((code) => {
      const info = this.call('C_GetMechanismInfo', () => this.lib.C_GetMechanismInfo(slot, code));
      return { Mechanism: ckmName(code), Code: code, MinKeySize: info.minKeySize, MaxKeySize: info.maxKeySize, Flags: mechanismFlagNames(info.flags) };
    });
  }

  /** Returns an opaque session reference, valid in this child only. */
  openSession(slotId: string, options: { readWrite?: boolean } = {}): string {
    const flags = ckf('CKF_SERIAL_SESSION') | (options.readWrite === true ? ckf('CKF_RW_SESSION') : 0);
    const handle = this.call('C_OpenSession', () => this.lib.C_OpenSession(this.slot(slotId), flags));
    this.handleWidth = handle.length;
    const ref = `${this.instance}.${handleToString(handle)}`;
    this.sessions.set(ref, { handle, slotId });
    return ref;
  }

  /**
   * C_GetSessionInfo, and the liveness probe of a held session: it also checks that the session's token is
   * still there. PKCS#11 closes a removed token's sessions, but SoftHSM keeps serving a session (even
   * C_GetSessionInfo) on a token whose directory is gone, and fails only later writes and logins with
   * CKR_GENERAL_ERROR. So a missing token ends the session here, with CKR_TOKEN_NOT_PRESENT.
   */
  getSessionInfo(ref: string): SessionInfoDto {
    const session = this.session(ref);
    const info = this.call('C_GetSessionInfo', () => this.lib.C_GetSessionInfo(session.handle));
    const slot = this.slot(session.slotId);
    const slotInfo = this.call('C_GetSlotInfo', () => this.lib.C_GetSlotInfo(slot));
    if (this.presentToken(slot, slotFlagNames(slotInfo.flags)) === null) {
      this.abandon(ref);
      throw new WorkbenchError('Pkcs11Exception', ckrMessage('C_GetSessionInfo', 'CKR_TOKEN_NOT_PRESENT'), { code: 'CKR_TOKEN_NOT_PRESENT', details: { function: 'C_GetSessionInfo', slotId: session.slotId } });
    }
    return { SlotId: handleToString(info.slotID), State: sessionStateName(info.state), Flags: sessionFlagNames(info.flags) };
  }

  /**
   * Secret: `pin` goes to C_Login and nowhere else. The error built here names only the function and
   * the CKR_ code; pkcs11js's own error text is dropped. After a refused PIN the token flags are read,
   * so callers can say how many tries remain (CKF_USER_PIN_COUNT_LOW / FINAL_TRY / LOCKED).
   * The session owns the token's login until it logs out or closes (TokenLogins): no other session of this
   * child can log in or out meanwhile.
   */
  login(ref: string, userType: UserType, pin: string): void {
    const session = this.session(ref);
    this.logins.assertCanLogin(session.slotId, ref, userType);
    try {
      this.lib.C_Login(session.handle, userType === 'SO' ? pkcs11js.CKU_SO : pkcs11js.CKU_USER, pin);
    } catch (error) {
      throw this.pinError('C_Login', error, session.slotId, { userType });
    }
    this.logins.loggedIn(session.slotId, ref, userType);
  }

  /**
   * C_InitToken: (re)initialises the token in `slotId` with `soPin` as the SO PIN (for a token already
   * initialised, the current SO PIN) and `label`, blank padded to the 32 bytes the spec requires. Every
   * object on the token is destroyed; no session may be open on it (CKR_SESSION_EXISTS).
   * Secret: `soPin` goes to C_InitToken and nowhere else.
   */
  initToken(slotId: string, soPin: string, label: string): void {
    const paddedLabel = paddedTokenLabel(label);
    const slot = this.slot(slotId);
    try {
      this.lib.C_InitToken(slot, soPin, paddedLabel);
    } catch (error) {
      throw this.pinError('C_InitToken', error, slotId, { slotId });
    }
  }

  /**
   * C_InitPIN: sets the normal user's (CKU_USER) PIN. The session must be read-write with the SO logged
   * in (CKS_RW_SO_FUNCTIONS); otherwise the module answers CKR_USER_NOT_LOGGED_IN or CKR_SESSION_READ_ONLY.
   * Secret: `pin` goes to C_InitPIN and nowhere else.
   */
  initPin(ref: string, pin: string): void {
    const session = this.session(ref);
    try {
      this.lib.C_InitPIN(session.handle, pin);
    } catch (error) {
      throw this.pinError('C_InitPIN', error, session.slotId, {});
    }
  }

  /**
   * C_SetPIN: changes the PIN of the user logged in on the session (the normal user in a public session),
   * from `oldPin` to `newPin`. The session must be read-write.
   * Secret: both PINs go to C_SetPIN and nowhere else.
   */
  setPin(ref: string, oldPin: string, newPin: string): void {
    const session = this.session(ref);
    try {
      this.lib.C_SetPIN(session.handle, oldPin, newPin);
    } catch (error) {
      throw this.pinError('C_SetPIN', error, session.slotId, {});
    }
  }

  /** C_Logout; only the session that logged in may (it would end every session's login on the token). */
  logout(ref: string): void {
    const session = this.session(ref);
    this.logins.assertCanLogout(session.slotId, ref);
    this.call('C_Logout', () => this.lib.C_Logout(session.handle));
    this.logins.loggedOut(session.slotId);
  }

  /** C_CloseSession. Closing the session that holds the token's login ends that login first, so it never outlives its owner. */
  closeSession(ref: string): void {
    const session = this.session(ref);
    if (this.logins.holds(session.slotId, ref)) {
      try {
        this.lib.C_Logout(session.handle);
      } catch {
        // Closing is what was asked; a login that is already gone (device reset) is no obstacle.
      }
      this.logins.loggedOut(session.slotId);
    }
    this.call('C_CloseSession', () => this.lib.C_CloseSession(session.handle));
    this.sessions.delete(ref);
  }

  /**
   * Enumerates matching objects a page at a time: C_FindObjects fetches up to `pageSize` handles,
   * then C_GetAttributeValue reads each object. The child sends each page as one message.
   */
  *findObjects(ref: string, query: FindObjectsQuery): Generator<ObjectInfo[]> {
    const session = this.session(ref).handle;
    const template = this.template(query.template, 'search');
    const withHandle = query.attributes.includes('handle');
    const pageSize = Math.max(1, Math.min(4096, Math.floor(query.pageSize ?? DEFAULT_PAGE_SIZE)));
    this.call('C_FindObjectsInit', () => this.lib.C_FindObjectsInit(session, template));
    try {
      for (;;) {
        const handles = this.call('C_FindObjects', () => this.lib.C_FindObjects(session, pageSize));
        if (handles.length === 0) return;
        yield handles.map((handle) => this.readObject(session, handle, query.attributes, withHandle));
      }
    } finally {
      try {
        this.lib.C_FindObjectsFinal(session);
      } catch {
        // The search is over either way; a dead session reports its own error on the next call.
      }
    }
  }

  /**
   * C_GetAttributeValue of one object. `value` (CKA_VALUE) is refused, never requested, for key material and
   * for private or sensitive objects (see assertValueReadable); other attributes the object lacks or keeps
   * sensitive are left out.
   */
  getAttributes(ref: string, handle: string, attributes: readonly ObjectAttributeName[]): ObjectInfo {
    return this.readObject(this.session(ref).handle, this.object(handle), attributes, attributes.includes('handle'));
  }

  /** C_SetAttributeValue. CKA_TRUSTED needs the SO; most tokens refuse to turn sensitive or wrap-with-trusted off. */
  setAttributes(ref: string, handle: string, template: ObjectTemplate): void {
    const session = this.session(ref).handle;
    const object = this.object(handle);
    const attributes = this.template(template, 'attribute');
    this.call('C_SetAttributeValue', () => this.lib.C_SetAttributeValue(session, object, attributes));
  }

  /** C_CreateObject (certificates, public keys, data objects); returns the new object's handle. */
  createObject(ref: string, template: ObjectTemplate): string {
    const session = this.session(ref).handle;
    const attributes = this.template(template, 'object');
    return handleToString(this.call('C_CreateObject', () => this.lib.C_CreateObject(session, attributes)));
  }

  destroyObject(ref: string, handle: string): void {
    const session = this.session(ref).handle;
    const object = this.object(handle);
    this.call('C_DestroyObject', () => this.lib.C_DestroyObject(session, object));
  }

  /** C_GenerateKey (e.g. CKM_AES_KEY_GEN with valueLen 32); returns the key's handle. */
  generateKey(ref: string, mechanism: Mechanism, template: ObjectTemplate): string {
    const session = this.session(ref).handle;
    const mech = this.mechanism(mechanism, 'C_GenerateKey');
    const attributes = this.template(template, 'key');
    return handleToString(this.call('C_GenerateKey', () => this.lib.C_GenerateKey(session, mech, attributes)));
  }

  /** C_GenerateKeyPair (e.g. CKM_RSA_PKCS_KEY_PAIR_GEN with modulusBits on the public template). */
  generateKeyPair(ref: string, mechanism: Mechanism, publicTemplate: ObjectTemplate, privateTemplate: ObjectTemplate): KeyPairHandles {
    const session = this.session(ref).handle;
    const mech = this.mechanism(mechanism, 'C_GenerateKeyPair');
    const publicAttributes = this.template(publicTemplate, 'public key');
    const privateAttributes = this.template(privateTemplate, 'private key');
    const pair = this.call('C_GenerateKeyPair', () => this.lib.C_GenerateKeyPair(session, mech, publicAttributes, privateAttributes));
    return { publicKey: handleToString(pair.publicKey), privateKey: handleToString(pair.privateKey) };
  }

  /** C_SignInit + C_Sign in one part; the signature as hex. */
  sign(ref: string, mechanism: Mechanism, keyHandle: string, dataHex: string): string {
    const session = this.session(ref).handle;
    const mech = this.mechanism(mechanism, 'C_SignInit');
    const key = this.object(keyHandle);
    const data = this.data(dataHex, 'the data to sign');
    this.call('C_SignInit', () => this.lib.C_SignInit(session, mech, key));
    return this.call('C_Sign', () => this.lib.C_Sign(session, data, Buffer.alloc(OUTPUT_ROOM))).toString('hex');
  }

  /** C_EncryptInit + C_Encrypt in one part (AES-GCM appends the tag); the ciphertext as hex. */
  encrypt(ref: string, mechanism: Mechanism, keyHandle: string, dataHex: string): string {
    const session = this.session(ref).handle;
    const mech = this.mechanism(mechanism, 'C_EncryptInit');
    const key = this.object(keyHandle);
    const data = this.data(dataHex, 'the plaintext');
    this.call('C_EncryptInit', () => this.lib.C_EncryptInit(session, mech, key));
    return this.call('C_Encrypt', () => this.lib.C_Encrypt(session, data, Buffer.alloc(data.length + OUTPUT_ROOM))).toString('hex');
  }

  /** C_DecryptInit + C_Decrypt in one part; the plaintext as hex. */
  decrypt(ref: string, mechanism: Mechanism, keyHandle: string, dataHex: string): string {
    const session = this.session(ref).handle;
    const mech = this.mechanism(mechanism, 'C_DecryptInit');
    const key = this.object(keyHandle);
    const data = this.data(dataHex, 'the ciphertext');
    this.call('C_DecryptInit', () => this.lib.C_DecryptInit(session, mech, key));
    return this.call('C_Decrypt', () => this.lib.C_Decrypt(session, data, Buffer.alloc(data.length + OUTPUT_ROOM))).toString('hex');
  }

  /**
   * C_WrapKey: `keyHandle` encrypted under `wrappingKeyHandle` (RSA-OAEP for a trusted member's public key).
   * The token enforces CKA_WRAP_WITH_TRUSTED and CKA_EXTRACTABLE; the key material never leaves it in clear.
   */
  wrapKey(ref: string, mechanism: Mechanism, wrappingKeyHandle: string, keyHandle: string): string {
    const session = this.session(ref).handle;
    const mech = this.mechanism(mechanism, 'C_WrapKey');
    const wrappingKey = this.object(wrappingKeyHandle);
    const key = this.object(keyHandle);
    return this.call('C_WrapKey', () => this.lib.C_WrapKey(session, mech, wrappingKey, key, Buffer.alloc(WRAPPED_KEY_MAX))).toString('hex');
  }

  /** C_UnwrapKey: a new key object from `wrappedHex` with `template`'s attributes; returns its handle. */
  unwrapKey(ref: string, mechanism: Mechanism, unwrappingKeyHandle: string, wrappedHex: string, template: ObjectTemplate): string {
    const session = this.session(ref).handle;
    const mech = this.mechanism(mechanism, 'C_UnwrapKey');
    const unwrappingKey = this.object(unwrappingKeyHandle);
    const wrapped = this.data(wrappedHex, 'the wrapped key');
    const attributes = this.template(template, 'unwrapped key');
    return handleToString(this.call('C_UnwrapKey', () => this.lib.C_UnwrapKey(session, mech, unwrappingKey, wrapped, attributes)));
  }

  /** C_GenerateRandom: `length` (1–4096) bytes from the token's RNG as hex. Needs a session, not a login. */
  generateRandom(ref: string, length: number): string {
    const session = this.session(ref).handle;
    if (!Number.isInteger(length) || length < 1 || length > RANDOM_MAX) {
      throw new WorkbenchError('Pkcs11Exception', `generateRandom takes a length of 1 to ${RANDOM_MAX} bytes. Ask for a whole number of bytes in that range.`, { code: 'CKR_ARGUMENTS_BAD', details: { function: 'C_GenerateRandom' } });
    }
    return this.call('C_GenerateRandom', () => this.lib.C_GenerateRandom(session, Buffer.alloc(length))).toString('hex');
  }

  /** C_Finalize and unload; for an orderly exit. */
  finalize(): void {
    try {
      this.lib.C_Finalize();
    } finally {
      closeQuietly(this.lib);
    }
  }

  private readObject(session: Buffer, handle: Buffer, attributes: readonly ObjectAttributeName[], withHandle: boolean): ObjectInfo {
    const info: ObjectInfo = withHandle ? { handle: handleToString(handle) } : {};
    // pkcs11js writes the values into the template it is given, so each call gets a fresh one.
    const template = attributeQuery(attributes);
    if (template.length === 0) return info;
    if (attributes.includes('value')) this.assertValueReadable(session, handle);
    try {
      return decodeAttributes(this.lib.C_GetAttributeValue(session, handle, template), info, this.handleWidth);
    } catch (error) {
      const code = pkcs11Code(error);
      if (code !== 'CKR_ATTRIBUTE_TYPE_INVALID' && code !== 'CKR_ATTRIBUTE_SENSITIVE') throw this.pkcs11Error('C_GetAttributeValue', error);
    }
    // One attribute does not apply to this object (CKA_KEY_TYPE of a certificate) or is sensitive:
    // read them one at a time and leave those out.
    for (const name of attributes) {
      if (name === 'handle') continue;
      try {
        decodeAttributes(this.lib.C_GetAttributeValue(session, handle, attributeQuery([name])), info, this.handleWidth);
      } catch (error) {
        const code = pkcs11Code(error);
        if (code !== 'CKR_ATTRIBUTE_TYPE_INVALID' && code !== 'CKR_ATTRIBUTE_SENSITIVE') throw this.pkcs11Error('C_GetAttributeValue', error);
      }
    }
    return info;
  }

  /**
   * CKA_VALUE is asked for only after CKA_CLASS, CKA_PRIVATE and CKA_SENSITIVE say the object is public data:
   * key material (a secret or private key, even one the token would hand out), a private object or a
   * sensitive one is refused here, so its value is never requested and never crosses the IPC channel.
   */
  private assertValueReadable(session: Buffer, handle: Buffer): void {
    const guard = this.readObject(session, handle, ['class', 'private', 'sensitive'], false);
    const objectClass = guard.class;
    const why =
      objectClass === undefined
        ? 'its class (CKA_CLASS) could not be read'
        : KEY_MATERIAL_CLASSES.includes(objectClass)
          ? `it is key material (${objectClass})`
          : guard.private !== false
            ? 'it is a private object (CKA_PRIVATE)'
            : guard.sensitive === true
              ? 'it is sensitive (CKA_SENSITIVE)'
              : undefined;
    if (why === undefined) return;
    throw new WorkbenchError(
      'Pkcs11Exception',
      `The HSM host refused to read CKA_VALUE of object ${handleToString(handle)}: ${why}, and such values never leave the HSM. Ask for value only of public, non-sensitive objects (certificates, public keys, public data objects); identify keys by label, id and check value.`,
      { code: 'SENSITIVE_ATTRIBUTE_REFUSED', details: { function: 'C_GetAttributeValue', attribute: 'CKA_VALUE', ...(objectClass ? { objectClass } : {}) } },
    );
  }

  /** A template for a verb; a malformed one is refused before any PKCS#11 call. */
  private template(template: ObjectTemplate, what: string): pkcs11js.Template {
    try {
      return toPkcs11Template(template, this.handleWidth);
    } catch (error) {
      throw new WorkbenchError('Pkcs11Exception', `The ${what} template is not valid: ${(error as Error).message}.`, { code: 'CKR_TEMPLATE_INCONSISTENT' });
    }
  }

  private mechanism(mechanism: Mechanism, functionName: string): pkcs11js.Mechanism {
    try {
      return toPkcs11Mechanism(mechanism);
    } catch (error) {
      throw new WorkbenchError('Pkcs11Exception', `The mechanism for ${functionName} is not valid: ${(error as Error).message}.`, { code: 'CKR_MECHANISM_INVALID', details: { function: functionName } });
    }
  }

  private object(handle: string): Buffer {
    try {
      return handleFromString(handle, this.handleWidth);
    } catch {
      throw new WorkbenchError('Pkcs11Exception', 'An object handle is a decimal number, as findObjects returns it. Find the object again.', { code: 'CKR_OBJECT_HANDLE_INVALID' });
    }
  }

  /** Input bytes of a one-part operation; pkcs11js refuses an empty buffer, so empty input is refused here by name. */
  private data(value: string, what: string): Buffer {
    let bytes: Buffer;
    try {
      bytes = bytesFromHex(value, what);
    } catch (error) {
      throw new WorkbenchError('Pkcs11Exception', `${capitalized((error as Error).message)}. Pass the bytes as a lowercase hex string.`, { code: 'CKR_ARGUMENTS_BAD' });
    }
    if (bytes.length === 0) throw new WorkbenchError('Pkcs11Exception', `${capitalized(what)} is empty. Pass at least one byte.`, { code: 'CKR_ARGUMENTS_BAD' });
    return bytes;
  }

  /**
   * The token in `slot`, or null for an empty slot. A token can vanish between C_GetSlotInfo and C_GetTokenInfo
   * (SoftHSM answers CKR_GENERAL_ERROR once its directory is gone; USB tokens answer CKR_DEVICE_REMOVED): that
   * slot is empty too.
   */
  private presentToken(slot: Buffer, slotFlags: readonly string[]): TokenInfo | null {
    if (!slotFlags.includes('CKF_TOKEN_PRESENT')) return null;
    try {
      return tokenInfo(this.lib.C_GetTokenInfo(slot));
    } catch {
      return null;
    }
  }

  /** Forgets a session whose token is gone: its login ends with it, and a refused C_CloseSession changes nothing. */
  private abandon(ref: string): void {
    const session = this.sessions.get(ref);
    if (!session) return;
    if (this.logins.holds(session.slotId, ref)) this.logins.loggedOut(session.slotId);
    try {
      this.lib.C_CloseSession(session.handle);
    } catch {
      // The token is gone, and the session with it.
    }
    this.sessions.delete(ref);
  }

  private slot(slotId: string): Buffer {
    try {
      return handleFromString(slotId, this.handleWidth);
    } catch {
      throw new WorkbenchError('Pkcs11Exception', ckrMessage('C_GetSlotInfo', 'CKR_SLOT_ID_INVALID'), { code: 'CKR_SLOT_ID_INVALID', details: { slotId } });
    }
  }

  private session(ref: string): { handle: Buffer; slotId: string } {
    const session = this.sessions.get(ref);
    if (session) return session;
    const message = ref.startsWith(`${this.instance}.`)
      ? 'The session is not open in this HSM host (it was closed). Open a new session.'
      : 'The session belongs to an earlier HSM host process (it restarted after a crash, a timeout or a reset). Open a new session.';
    throw new WorkbenchError('Pkcs11Exception', message, { code: 'CKR_SESSION_HANDLE_INVALID' });
  }

  private call<T>(functionName: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw this.pkcs11Error(functionName, error);
    }
  }

  /**
   * The error of a call that carried a PIN: function and CKR_ code only (pkcs11js's text is dropped). After
   * a refused PIN the token flags are read, so callers can say how many tries remain
   * (CKF_USER_PIN_COUNT_LOW / FINAL_TRY / LOCKED, and the CKF_SO_PIN_ ones).
   */
  private pinError(functionName: string, error: unknown, slotId: string, details: Record<string, unknown>): WorkbenchError {
    if (error instanceof WorkbenchError) return error;
    const code = pkcs11Code(error);
    if (code === undefined) return internalError(functionName);
    const all: Record<string, unknown> = { function: functionName, ...details };
    if (code === 'CKR_PIN_INCORRECT' || code === 'CKR_PIN_LEN_RANGE' || code === 'CKR_PIN_LOCKED') {
      try {
        all.tokenFlags = tokenFlagNames(this.lib.C_GetTokenInfo(this.slot(slotId)).flags);
      } catch {
        // The flags are a courtesy; the PIN failure is what matters.
      }
    }
    return new WorkbenchError('Pkcs11Exception', ckrMessage(functionName, code), { code, details: all });
  }

  private pkcs11Error(functionName: string, error: unknown): WorkbenchError {
    if (error instanceof WorkbenchError) return error;
    const code = pkcs11Code(error);
    if (code === undefined) return internalError(functionName);
    return new WorkbenchError('Pkcs11Exception', ckrMessage(functionName, code), { code, details: { function: functionName } });
  }
}

/** The CKR_ name of a pkcs11js error, from its numeric code (vendor text is never echoed). */
function pkcs11Code(error: unknown): string | undefined {
  if (error instanceof pkcs11js.Pkcs11Error && typeof error.code === 'number') return ckrName(error.code);
  return undefined;
}

/** A failure that is not a PKCS#11 return value (pkcs11js rejected an argument, say): not dressed up as a CKR_ code. */
function internalError(functionName: string): WorkbenchError {
  return new WorkbenchError('KMSInternalException', `The HSM host failed to call ${functionName} (no PKCS#11 return value: pkcs11js refused the call). This is a workbench defect: please report it with the operation you ran.`, {
    details: { function: functionName },
  });
}

/** What a path that is not a regular file is, in words an admin knows; a directory is the common slip. */
function fileKind(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isSocket()) return 'a socket';
  return stats.isDirectory() ? 'a directory' : 'not a regular file';
}

function assertLoadableFile(path: string): void {
  let kind: string | undefined;
  try {
    kind = fileKind(statSync(path));
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    throw new WorkbenchError(
      'Pkcs11ModuleLoadException',
      errno === 'EACCES'
        ? `The PKCS#11 module ${path} cannot be read by this user. Check its permissions.`
        : `There is no PKCS#11 module at ${path}. Check the path; install the HSM vendor's PKCS#11 library (for SoftHSM2: /usr/lib/softhsm/libsofthsm2.so from the softhsm2 package).`,
      { code: 'MODULE_NOT_FOUND', details: { modulePath: path } },
    );
  }
  if (kind === 'a directory') {
    throw new WorkbenchError('Pkcs11ModuleLoadException', `${path} is not a file. Give the path of the PKCS#11 shared library itself (a .so, .dylib or .dll), not its directory.`, {
      code: 'NOT_A_PKCS11_MODULE',
      details: { modulePath: path },
    });
  }
  // Refused before dlopen: opening a FIFO would block the host until someone writes to it.
  if (kind !== undefined) {
    throw new WorkbenchError('Pkcs11ModuleLoadException', `${path} is ${kind}, not a shared library. Give the path of the HSM vendor's PKCS#11 library (a .so, .dylib or .dll file).`, {
      code: 'NOT_A_PKCS11_MODULE',
      details: { modulePath: path },
    });
  }
}

/** The forms of P11_KIT_SERVER_ADDRESS p11-kit's client connects to (p11-kit 0.24 and 0.25). */
const P11_KIT_ADDRESS = /^(unix:path=|vsock:)/;

/**
 * The library loaded and is a PKCS#11 module, but its C_GetFunctionList refused: modules that set
 * themselves up there do so when their configuration is unusable. p11-kit's client is one: it parses
 * P11_KIT_SERVER_ADDRESS there, so a malformed address is named rather than the module blamed.
 */
function functionListRefused(path: string, ckr: string, details: Record<string, unknown>): WorkbenchError {
  const address = process.env['P11_KIT_SERVER_ADDRESS'];
  if (address !== undefined && address !== '' && !P11_KIT_ADDRESS.test(address)) {
    return new WorkbenchError(
      'Pkcs11ModuleLoadException',
      `The PKCS#11 module ${path} refused to start (C_GetFunctionList answered ${ckr}): P11_KIT_SERVER_ADDRESS ${JSON.stringify(address.slice(0, 200))} is not an address p11-kit's client can use. Give unix:path=<socket>, as \`p11-kit server\` prints it (or vsock:cid=<cid>;port=<port>), in the module environment.`,
      { code: 'INITIALIZE_FAILED', details: { ...details, ckr, environmentVariable: 'P11_KIT_SERVER_ADDRESS' } },
    );
  }
  return new WorkbenchError(
    'Pkcs11ModuleLoadException',
    `The PKCS#11 module ${path} refused to start (C_GetFunctionList answered ${ckr}). Check the module's configuration and environment (e.g. SOFTHSM2_CONF, P11_KIT_SERVER_ADDRESS, the vendor's client configuration).`,
    { code: 'INITIALIZE_FAILED', details: { ...details, ckr } },
  );
}

/** dlopen/dlsym failures, sorted into "missing" (a dependency), "refused to start" and "not a PKCS#11 module". */
function loadError(path: string, error: unknown): WorkbenchError {
  const loaderMessage = error instanceof Error ? error.message : String(error);
  const details = { modulePath: path, loaderMessage };
  // pkcs11js reports a refusing C_GetFunctionList as a plain Error "CKR_NAME:number", not as a Pkcs11Error.
  const ckr = /^(CKR_\w+):\d+$/.exec(loaderMessage)?.[1];
  if (ckr !== undefined) return functionListRefused(path, ckr, details);
  if (/C_GetFunctionList/.test(loaderMessage)) {
    return new WorkbenchError('Pkcs11ModuleLoadException', `${path} is a shared library but not a PKCS#11 module (it has no C_GetFunctionList). Choose the HSM vendor's PKCS#11 library.`, {
      code: 'NOT_A_PKCS11_MODULE',
      details,
    });
  }
  const missingDependency = /^(.*?): cannot open shared object file/.exec(loaderMessage)?.[1];
  if (missingDependency !== undefined && missingDependency !== path) {
    return new WorkbenchError('Pkcs11ModuleLoadException', `The PKCS#11 module ${path} needs ${missingDependency}, which is not installed. Install the rest of the HSM vendor's client software.`, {
      code: 'MODULE_NOT_FOUND',
      details,
    });
  }
  return new WorkbenchError('Pkcs11ModuleLoadException', `${path} is not a PKCS#11 module this system can load (${loaderMessage}). Choose the HSM vendor's PKCS#11 shared library for this platform.`, {
    code: 'NOT_A_PKCS11_MODULE',
    details,
  });
}

function closeQuietly(lib: PKCS11): void {
  try {
    lib.close();
  } catch {
    // Unloading is best effort; the process is about to report an error or exit.
  }
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function version(v: { major: number; minor: number }): string {
  return `${v.major}.${v.minor}`;
}

/** CK_UNAVAILABLE_INFORMATION (all ones; some transports truncate it to 32 bits) means "not known". */
function count(n: number): number | null {
  return n >= 0xffffffff ? null : n;
}

function tokenInfo(info: pkcs11js.TokenInfo): TokenInfo {
  return {
    Label: fixedString(info.label),
    ManufacturerId: fixedString(info.manufacturerID),
    Model: fixedString(info.model),
    SerialNumber: fixedString(info.serialNumber),
    Flags: tokenFlagNames(info.flags),
    MaxSessionCount: count(info.maxSessionCount),
    SessionCount: count(info.sessionCount),
    MaxRwSessionCount: count(info.maxRwSessionCount),
    RwSessionCount: count(info.rwSessionCount),
    MinPinLen: info.minPinLen,
    MaxPinLen: info.maxPinLen,
    HardwareVersion: version(info.hardwareVersion),
    FirmwareVersion: version(info.firmwareVersion),
  };
}
