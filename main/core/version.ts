import packageJson from '../../package.json' with { type: 'json' };

/** Bundled in at build time, so the CLI and the app report the version they were built from. */
export const WORKBENCH_VERSION: string = packageJson.version;
