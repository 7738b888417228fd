/**
 * The last module path and environment the admin used, so the wizard opens where they left off.
 * Only these two non-secret values are remembered: never PINs, passwords or token contents.
 */
export interface ModulePreference {
  modulePath: string;
  environment: Array<{ name: string; value: string }>;
}

const STORAGE_KEY = 'hsm-workbench.last-module';

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
    return { modulePath, environment: rows };
  } catch {
    // A hand-edited or foreign value is not worth an error: start from the defaults.
    return null;
  }
}

export function saveModulePreference(preference: ModulePreference): void {
  window.localStorage.setItem(STORAGE_KEY, JSON.stringify(preference));
}
