/** Types for system-packages.mjs (imported by TypeScript tests). */
export type PackageManager = 'apt' | 'dnf' | 'brew';

export interface Requirement {
  name: string;
  why: string;
  /** Proof: a command on PATH… */
  command?: string;
  /** …or one of these files, per manager. */
  files?: Partial<Record<PackageManager, string[]>>;
  /** The package per manager; absent: not needed there; null: needed, but no package there. */
  packages: Partial<Record<PackageManager, string | null>>;
  /** Why there is no package, where `packages` says null. */
  unavailable?: string;
}

export interface Probe {
  hasCommand(command: string): boolean;
  hasFile(file: string): boolean;
}

export interface Machine {
  manager: PackageManager | null;
  asRoot: boolean;
  probe: Probe;
}

export declare const SOFTHSM_MODULE_PATHS: readonly string[];
export declare const MANAGER_NAMES: Record<PackageManager, string>;
export declare function requirements(arch?: NodeJS.Architecture): Requirement[];
export declare function detectPackageManager(platform: NodeJS.Platform, osRelease: string | undefined): PackageManager | null;
export declare function missingRequirements(list: Requirement[], manager: PackageManager | null, probe: Probe): Requirement[];
export declare function installCommands(manager: PackageManager, missing: Requirement[], options: { asRoot: boolean }): string[][];
export declare function shellLine(commands: string[][]): string;
export declare function describeMissing(missing: Requirement[], manager: PackageManager | null): string[];
export declare function machineProbe(env?: NodeJS.ProcessEnv): Probe;
export declare function thisMachine(env?: NodeJS.ProcessEnv): Machine;
export declare function nodeVersionProblem(engines: string, version?: string): string | null;
