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
    const value = (assignment: string): Buffer => (parseSetCredential(assignment) as { value: Buffer }).value;
    assert.deepEqual(parseSetCredential('a:x\\ny\\t\\\\\\x41:b'), { id: 'a', value: Buffer.from('x\ny\t\\A:b'), option: "--set-credential for 'a'" });
    assert.deepEqual(value('empty:'), Buffer.alloc(0));
    assert.deepEqual(value('b:caf\\xc3\\xa9 \\377\\s\\u00e9'), Buffer.from([0x63, 0x61, 0x66, 0xc3, 0xa9, 0x20, 0xff, 0x20, 0xc3, 0xa9]), 'escapes are bytes');
  });

  it('never shows the value in a message', () => {
    assert.throws(() => parseSetCredential('pw:hunter2\\q'), (e: unknown) => e instanceof UserError && !e.message.includes('hunter2') && /--set-credential for 'pw'/.test(e.message));
    assert.throws(() => parseSetCredential('pw:hunter2\\000'), (e: unknown) => e instanceof UserError && !e.message.includes('hunter2'));
  });

  it('refuses bad names, a missing colon, NUL bytes and unknown escapes', () => {
    refused(() => parseSetCredential('noval'), /^invalid --set-credential: use ID:VALUE$/);
    refused(() => parseSetCredential('caf\u00e9:1'), /is no credential name/);
    refused(() => parseSetCredential('a:\\777'), /bad escape/);
    refused(() => parseSetCredential('a/b:1'), /"a\/b" is no credential name/);
    refused(() => parseSetCredential('..:1'), /"\.\." is no credential name/);
    refused(() => parseSetCredential('a:\\000'), /NUL byte/);
    refused(() => parseSetCredential('a:\\q'), /bad escape '\\q'/);
    refused(() => parseLoadCredential('a:'), /give the file to read/);
  });

  it('--load-credential keeps the path for prepare to read', () => {
    assert.deepEqual(parseLoadCredential('tok:/etc/x'), { id: 'tok', path: '/etc/x', option: "--load-credential for 'tok'" });
    assert.equal((parseLoadCredential('tok:dir/x') as { path: string }).path, `${process.cwd()}/dir/x`, 'a path with a slash is relative to the working directory');
    assert.equal((parseLoadCredential('tok:name') as { path: string }).path, 'name', 'a bare name: from $CREDENTIALS_DIRECTORY');
  });

  it('become a read-only ramfs at /run/host/credentials with 0400 files, and $CREDENTIALS_DIRECTORY', () => {
    assert.deepEqual(credentialOps([]), []);
    assert.deepEqual(credentialEnvironment([]), []);
    const ops = credentialOps([{ id: 'a', value: Buffer.from('1') }]);
    assert.deepEqual(ops, [
      { kind: 'mount', fstype: 'ramfs', target: '/run/host/credentials', flags: ['nosuid', 'nodev', 'noexec', 'mkdir'], data: 'mode=0500' },
      { kind: 'write', path: '/run/host/credentials/a', mode: 0o400, content: Buffer.from('1') },
      { kind: 'remount-ro', target: '/run/host/credentials', flags: ['nosuid', 'nodev', 'noexec'] },
    ]);
    assert.deepEqual(credentialEnvironment([{ id: 'a', value: Buffer.from('1') }]), ['CREDENTIALS_DIRECTORY=/run/host/credentials']);
  });
});
