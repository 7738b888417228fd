import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultStateDir, resolveStateDir } from './state-dir';

describe('defaultStateDir (where Electron would put userData for hsm-workbench)', () => {
  it('Linux: $XDG_CONFIG_HOME, else ~/.config', () => {
    expect(defaultStateDir({ platform: 'linux', home: '/home/a', env: { XDG_CONFIG_HOME: '/xdg' } })).toBe('/xdg/hsm-workbench');
    expect(defaultStateDir({ platform: 'linux', home: '/home/a', env: {} })).toBe('/home/a/.config/hsm-workbench');
  });

  it('macOS: ~/Library/Application Support', () => {
    expect(defaultStateDir({ platform: 'darwin', home: '/Users/a', env: {} })).toBe('/Users/a/Library/Application Support/hsm-workbench');
  });

  it('Windows: %APPDATA%', () => {
    expect(defaultStateDir({ platform: 'win32', home: 'C:\\Users\\a', env: { APPDATA: 'C:\\Users\\a\\AppData\\Roaming' } })).toBe('C:\\Users\\a\\AppData\\Roaming\\hsm-workbench');
  });
});

describe('resolveStateDir', () => {
  it('prefers the flag, then HSM_WORKBENCH_HOME, then the per-user default, and creates it 0700', async () => {
    const root = await mkdtemp(join(tmpdir(), 'hsmwb-dir-'));
    try {
      const env = { HSM_WORKBENCH_HOME: join(root, 'env'), XDG_CONFIG_HOME: join(root, 'xdg') };
      expect(resolveStateDir({ flag: join(root, 'flag'), env })).toBe(join(root, 'flag'));
      expect(resolveStateDir({ env })).toBe(join(root, 'env'));
      expect(resolveStateDir({ env: { XDG_CONFIG_HOME: join(root, 'xdg') }, platform: 'linux' })).toBe(join(root, 'xdg', 'hsm-workbench'));
      expect(resolveStateDir({ flag: '', env })).toBe(join(root, 'env'));
      expect((await stat(join(root, 'flag'))).mode & 0o777).toBe(0o700);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
