/** Credentials: --set-credential/--load-credential parsing (src/settings/values.ts) and their plan ops (src/plan/credentials.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentialEnvironment, credentialOps } from '../../src/plan/credentials.js';
import { parseLoadCredential, parseSetCredential } from '../../src/settings/values.js';
import { UserError } from '../../src/util/errors.js';

const refused = (fn: () => unknown, pattern: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof UserError && pattern.test(e.message));
};

describe('credential options', () => {
  it('--set-credential=ID:VALUE undoes C escapes, as nspawn', () => {
    assert.deepEqual(parseSetCredential('a:x\\ny\\t\\\\\\x41:b'), { id: 'a', value: 'x\ny\t\\A:b', option: '--set-credential=a:x\\ny\\t\\\\\\x41:b' });
    assert.equal((parseSetCredential('empty:') as { value: string }).value, '');
  });

  it('refuses bad names, a missing colon, NUL bytes and unknown escapes', () => {
    refused(() => parseSetCredential('noval'), /^invalid --set-credential=noval: use ID:VALUE$/);
    refused(() => parseSetCredential('a/b:1'), /'a\/b' is no credential name/);
    refused(() => parseSetCredential('..:1'), /'\.\.' is no credential name/);
    refused(() => parseSetCredential('a:\\000'), /NUL byte/);
    refused(() => parseSetCredential('a:\\q'), /bad escape '\\q'/);
    refused(() => parseLoadCredential('a:'), /give the file to read/);
  });

  it('--load-credential keeps the path for prepare to read', () => {
    assert.deepEqual(parseLoadCredential('tok:/etc/x'), { id: 'tok', path: '/etc/x', option: '--load-credential=tok:/etc/x' });
  });

  it('become a read-only ramfs at /run/host/credentials with 0400 files, and $CREDENTIALS_DIRECTORY', () => {
    assert.deepEqual(credentialOps([]), []);
    assert.deepEqual(credentialEnvironment([]), []);
    const ops = credentialOps([{ id: 'a', value: '1' }]);
    assert.deepEqual(ops, [
      { kind: 'mount', fstype: 'ramfs', target: '/run/host/credentials', flags: ['nosuid', 'nodev', 'noexec', 'mkdir'], data: 'mode=0500' },
      { kind: 'write', path: '/run/host/credentials/a', mode: 0o400, content: '1' },
      { kind: 'remount-ro', target: '/run/host/credentials', flags: ['nosuid', 'nodev', 'noexec'] },
    ]);
    assert.deepEqual(credentialEnvironment([{ id: 'a', value: '1' }]), ['CREDENTIALS_DIRECTORY=/run/host/credentials']);
  });
});
