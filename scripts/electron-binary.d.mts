/** Types for electron-binary.mjs (imported by TypeScript tests). */
export declare const ELECTRON_BINARY_HELP: string;
export type ElectronBinary = { found: true; path: string } | { found: false; reason: string };
export declare function locateElectronBinary(root: string, env?: NodeJS.ProcessEnv): ElectronBinary;
