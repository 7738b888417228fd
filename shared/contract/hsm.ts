import { z } from 'zod';

/** Absolute path of a PKCS#11 shared library. */
export const ModulePath = z
  .string()
  .min(1, 'ModulePath is required')
  .max(4096)
  .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), 'ModulePath must be an absolute path to a PKCS#11 library');

/** Environment the module reads once at C_Initialize (e.g. SOFTHSM2_CONF, P11_KIT_SERVER_ADDRESS). */
export const ModuleEnvironment = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _'), z.string().max(4096))
  .refine((env) => Object.keys(env).length <= 32, 'at most 32 environment variables');

export const ModuleRef = z.object({
  ModulePath,
  ModuleEnvironment: ModuleEnvironment.default({}),
});

export const ModuleInfo = z.object({
  ModulePath: z.string(),
  CryptokiVersion: z.string(),
  ManufacturerId: z.string(),
  LibraryDescription: z.string(),
  LibraryVersion: z.string(),
});

export const TokenInfo = z.object({
  Label: z.string(),
  ManufacturerId: z.string(),
  Model: z.string(),
  SerialNumber: z.string(),
  /** CKF_ names of the token flags that are set, e.g. CKF_TOKEN_INITIALIZED, CKF_USER_PIN_COUNT_LOW. */
  Flags: z.array(z.string()),
  MaxSessionCount: z.number().nullable(),
  SessionCount: z.number().nullable(),
  MaxRwSessionCount: z.number().nullable(),
  RwSessionCount: z.number().nullable(),
  MinPinLen: z.number(),
  MaxPinLen: z.number(),
  HardwareVersion: z.string(),
  FirmwareVersion: z.string(),
});

export const SlotInfo = z.object({
  /** Decimal form of the CK_SLOT_ID; valid only for the module instance that listed it. */
  SlotId: z.string(),
  SlotDescription: z.string(),
  ManufacturerId: z.string(),
  Flags: z.array(z.string()),
  TokenPresent: z.boolean(),
  Token: TokenInfo.nullable(),
});

export const MechanismInfo = z.object({
  Mechanism: z.string(),
  Code: z.number(),
  MinKeySize: z.number(),
  MaxKeySize: z.number(),
  Flags: z.array(z.string()),
});

export type ModuleRef = z.infer<typeof ModuleRef>;
export type ModuleInfo = z.infer<typeof ModuleInfo>;
export type TokenInfo = z.infer<typeof TokenInfo>;
export type SlotInfo = z.infer<typeof SlotInfo>;
export type MechanismInfo = z.infer<typeof MechanismInfo>;
