/** nspawn's choice of console mode: resolveConsole in src/runtime/prepare.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveConsole } from '../../src/runtime/prepare.js';
import { settingsFromArgs } from '../../src/settings/from-args.js';
import type { Settings } from '../../src/settings/model.js';
import { throwsUserError } from './helpers.js';

async function settings(...argv: string[]): Promise<Settings> {
  const s = await settingsFromArgs(argv);
  assert.notEqual(s, 'exit');
  return s as Settings;
}

const TTY_COMBINATIONS: Array<[boolean, boolean]> = [
  [true, true],
  [true, false],
  [false, true],
  [false, false],
];

describe('resolveConsole', () => {
  it('without options: interactive when stdin and stdout are terminals, else read-only', async () => {
    const s = await settings();
    assert.equal(resolveConsole(s, true, true), 'interactive');
    assert.equal(resolveConsole(s, true, false), 'read-only');
    assert.equal(resolveConsole(s, false, true), 'read-only');
    assert.equal(resolveConsole(s, false, false), 'read-only');
  });

  it('-P and --pipe give pipe on or off a terminal', async () => {
    for (const flag of ['-P', '--pipe', '--console=pipe']) {
      const s = await settings(flag);
      for (const [i, o] of TTY_COMBINATIONS) assert.equal(resolveConsole(s, i, o), 'pipe', `${flag} ${i} ${o}`);
    }
  });

  it('--console=autopipe: interactive on a terminal, else pipe', async () => {
    const s = await settings('--console=autopipe');
    assert.equal(resolveConsole(s, true, true), 'interactive');
    assert.equal(resolveConsole(s, true, false), 'pipe');
    assert.equal(resolveConsole(s, false, true), 'pipe');
    assert.equal(resolveConsole(s, false, false), 'pipe');
  });

  it('--console=read-only and passive are kept as asked, terminal or not', async () => {
    for (const mode of ['read-only', 'passive'] as const) {
      const s = await settings(`--console=${mode}`);
      for (const [i, o] of TTY_COMBINATIONS) assert.equal(resolveConsole(s, i, o), mode);
    }
  });

  it('--console=interactive needs terminals; without them it is refused with a fix', async () => {
    const s = await settings('--console=interactive');
    assert.equal(resolveConsole(s, true, true), 'interactive');
    for (const [i, o] of TTY_COMBINATIONS.slice(1)) throwsUserError(() => resolveConsole(s, i, o), '--console=interactive', 'pipe');
  });

  it('the last of -P and --console wins, as in systemd-nspawn', async () => {
    // systemd-nspawn 252: "--console=read-only -P" pipes, "-P --console=read-only" uses a pty.
    assert.equal(resolveConsole(await settings('-P', '--console=read-only'), false, false), 'read-only');
    assert.equal(resolveConsole(await settings('--console=read-only', '-P'), false, false), 'pipe');
    assert.equal(resolveConsole(await settings('--console=interactive', '-P'), false, false), 'pipe');
  });
});
