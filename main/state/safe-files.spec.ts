import { describe, expect, it } from 'vitest';
import { WorkbenchError } from '../../shared/errors';
import { fileSystemError } from './safe-files';

function osError(code: string, syscall = 'open'): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: something, ${syscall} '/x'`), { code, syscall, path: '/x' });
}

describe('fileSystemError', () => {
  it.each([
    ['EACCES', /permission denied \(EACCES\)\. Check the owner and mode of \/s\/state\.json/],
    ['EROFS', /the filesystem is read-only \(EROFS\)\. Remount it read-write, or point --state-dir/],
    ['ENOSPC', /no space left \(disk or quota full\) \(ENOSPC\)\. Free some space/],
    ['EISDIR', /it is a directory where a file belongs \(EISDIR\)/],
    ['ENOTDIR', /a part of the path is a file, not a directory \(ENOTDIR\)\. Check --state-dir/],
  ])('%s: says what failed, on which path, the errno and what to do', (code, pattern) => {
    const error = fileSystemError(osError(code), 'write the state file', '/s/state.json') as WorkbenchError;
    expect(error).toBeInstanceOf(WorkbenchError);
    expect(error.name).toBe('FileSystemException');
    expect(error.code).toBe(code);
    expect(error.message).toMatch(/^Could not write the state file \/s\/state\.json: /);
    expect(error.message).toMatch(pattern);
    expect(error.details).toEqual({ path: '/s/state.json', errno: code, syscall: 'open' });
  });

  it('can raise the name of the layer that owns the path', () => {
    expect((fileSystemError(osError('ENOTDIR', 'stat'), 'use the state directory', '/etc/passwd/x', 'StateDirectoryException') as WorkbenchError).name).toBe('StateDirectoryException');
  });

  it('leaves errors that are not OS errors alone', () => {
    const named = new WorkbenchError('StateLockedException', 'locked');
    const plain = new Error('a bug');
    expect(fileSystemError(named, 'write', '/x')).toBe(named);
    expect(fileSystemError(plain, 'write', '/x')).toBe(plain);
    expect(fileSystemError('text', 'write', '/x')).toBe('text');
  });
});
