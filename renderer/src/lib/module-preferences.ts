/**
 * The last module path and environment the admin used, so the wizard opens where they left off.
 * Never PINs, passwords or token contents.
 *
 * Environment values are a special case: some vendor libraries take credentials through environment
 * variables, and localStorage is plain text on disk. So every variable *name* is remembered, but a *value*
 * only when the name says it is a location — SOFTHSM2_CONF, P11_KIT_SERVER_ADDRESS, or a name ending in
 * _CONF, _CONFIG, _PATH, _DIR, _ADDRESS or _FILE. Any other value comes back empty, for the admin to type again.
 */
export interface ModulePreference {
  modulePath: string;
  environment: Array<{ name: string; value: string }>;
}

const STORAGE_KEY = 'hsm-workbench.last-module';

const LOCATION_NAMES: ReadonlySet<string> = new Set(['SOFTHSM2_CONF', 'P11_KIT_SERVER_ADDRESS']);
const LOCATION_SUFFIX = /_(CONF|CONFIG|PATH|DIR|ADDRESS|FILE)$/;

/** True when a variable's value may be written to localStorage: its name marks it as a path or an address. */
export function isRememberedValue(name: string): boolean {
  const trimmed = name.trim().toUpperCase();
  return LOCATION_NAMES.has(trimmed) || LOCATION_SUFFIX.test(trimmed);
}

/** The environment as it may be stored: all names, values only for location variables. */
export function rememberedEnvironment(rows: ReadonlyArray<{ name: string; value: string }>): Array<{ name: string; value: string }> {
  return rows.map(({ name, value }) => ({ name, value: isRememberedValue(name) ? value : '' }));
}

export function loadModulePreference(): ModulePreference | null {
  try {
    const parsed: unknown = JSON.parse(window.localStorage.getItem(STORAGE_KEY) ?? 'null');
    if (parsed === null || typeof parsed !== 'object') return null;
    const { modulePath, environment } = parsed as { modulePath?: unknown; environment?: unknown };
    if (typeof modulePath !== 'string' || !Array.isArray(environment)) return null;
    const rows = environment.flatMap((row: unknown) => {
      if (row === null || typeof row !== 'object') return [];
      const { name, value } = row as { name?: unknown; value?: unknown };
      return typeof name === 'string' && typeof value === 'string' ? [{ name, value }] : [];
    });
    // Filtered on the way in too: a value saved by an older version, or by hand, is not handed back.
    return { modulePath, environment: rememberedEnvironment(rows) };
  } catch {
    // A hand-edited or foreign value is not worth an error: start from the defaults.
    return null;
  }
}

export function saveModulePreference(preference: ModulePreference): void {
  window.localStorage.setItem(STORAGE_KEY, JSON.stringify({ modulePath: preference.modulePath, environment: rememberedEnvironment(preference.environment) }));
}
