import { z } from 'zod';

/** Absolute path of a PKCS#11 shared library. */
export const ModulePath = z
  .string()
  .min(1, 'ModulePath is required')
  .max(4096)
  .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), 'ModulePath must be an absolute path to a PKCS#11 library');

/**
 * Variables that configure the HSM host process itself rather than the module inside it: the host
 * child is spawned with the module environment over the workbench's own, so these would run code in
 * it before any check (NODE_OPTIONS=--require, LD_PRELOAD, LD_AUDIT) or change what it trusts and
 * loads (NODE_EXTRA_CA_CERTS, NODE_PATH, LD_LIBRARY_PATH). Refused by prefix, because the runtimes
 * add new ones every release: NODE_ (Node.js), LD_ (the ELF loader, glibc and musl), DYLD_ (the macOS
 * loader), ELECTRON_ (ELECTRON_RUN_AS_NODE decides what the host binary is), UV_ (libuv, Node's event
 * loop), and GLIBC_TUNABLES (read by the loader). A vendor library that really needs one, say
 * LD_LIBRARY_PATH for its own dependencies, gets it from the environment the workbench is started in,
 * which the host inherits. Kept: everything a module reads (SOFTHSM2_CONF, P11_KIT_SERVER_ADDRESS,
 * vendor variables, PATH, HOME, OPENSSL_CONF for OpenSSL-based modules).
 */
const HOST_RUNTIME_PREFIXES = ['NODE_', 'LD_', 'DYLD_', 'ELECTRON_', 'UV_'];
const HOST_RUNTIME_NAMES = ['GLIBC_TUNABLES'];

/** Why `name` configures the HSM host rather than the module, or undefined when a module may have it. */
function hostRuntimeVariable(name: string): string | undefined {
  // Windows matches variable names without regard to case: node_options is NODE_OPTIONS there.
  const upper = name.toUpperCase();
  const prefix = HOST_RUNTIME_PREFIXES.find((p) => upper.startsWith(p));
  if (prefix === undefined && !HOST_RUNTIME_NAMES.includes(upper)) return undefined;
  const owner = prefix === 'NODE_' || prefix === 'UV_' ? 'Node.js' : prefix === 'ELECTRON_' ? 'Electron' : 'the dynamic loader';
  return `${name} configures ${owner} in the HSM host process, not the PKCS#11 module, so a module environment may not set it. If the vendor's library needs it, set it in the environment the workbench is started in`;
}

/**
 * A module environment is stored in the state file and shown by `cluster describe` and the GUI, and came in
 * on a command line: no place for a PIN or password (AWS CloudHSM's tools read HSM_PASSWORD, so admins will
 * try). Matched on whole name parts (PIN, not SHIPPING), plus PASSWORD/PASSPHRASE/SECRET anywhere.
 */
const SECRET_VARIABLE = /(^|_)(PIN|PASS|PASSWD|PWD|CREDENTIALS?)(_|$)|PASSWORD|PASSPHRASE|SECRET/i;

function secretVariable(name: string): string | undefined {
  if (!SECRET_VARIABLE.test(name)) return undefined;
  return `${name} looks like it holds a PIN or password, and a module environment is stored in the state file and shown in clear. Set it in the environment the workbench is started in (the HSM host inherits it); the kmsuser password is only ever read from stdin or a hidden prompt`;
}

/** Environment the module reads once at C_Initialize (e.g. SOFTHSM2_CONF, P11_KIT_SERVER_ADDRESS). */
export const ModuleEnvironment = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _'),
    // The OS ends a value at NUL, so the host could not even start: refused here, not reported as a crash.
    z.string().max(4096).refine((value) => !value.includes('\u0000'), 'environment values cannot hold a NUL character'),
  )
  .refine((env) => Object.keys(env).length <= 32, 'at most 32 environment variables')
  .superRefine((env, ctx) => {
    for (const [name, value] of Object.entries(env)) {
      const refusal = hostRuntimeVariable(name) ?? secretVariable(name);
      if (refusal !== undefined) ctx.addIssue({ code: 'custom', path: [name], message: refusal });
      // p11-kit's client runs an address that starts with | as a shell command (seen with p11-kit 0.24):
      // a module environment must not be a way to run commands in the host.
      if (name.toUpperCase() === 'P11_KIT_SERVER_ADDRESS' && value.trimStart().startsWith('|')) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `${name} starting with | makes p11-kit's client run a command, which the workbench does not allow. Start the server yourself and give its address (unix:path=…, as \`p11-kit server\` prints it)`,
        });
      }
    }
  });

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
