/**
 * Console modes and signals: read-only (the default without a terminal),
 * pipe, passive, interactive (under a real pty from script(1)), the ^]^]^]
 * escape, and SIGTERM/SIGINT to tsnspawn. Needs root.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { execa } from 'execa';
import { image } from '../harness/images.js';
import { rootSkipReason } from '../harness/root.js';
import { assertNoLeaks, runClean, start } from '../harness/run.js';
import { snapshot } from '../harness/host-state.js';
import { TOP, TSNSPAWN } from '../harness/paths.js';

const skip = rootSkipReason();

const PTY_DRIVE = `${TOP}/test/harness/pty-drive.py`;

/** Runs tsnspawn on a real pty (ROWSxCOLS); after each marker appears in the output, types its input. */
async function underTerminal(args: string[], steps: Array<[string, string]>): Promise<{ exitCode: number; output: string }> {
  const stepArgs = steps.flatMap(([marker, input]) => ['--after', marker, '--send', input]);
  const r = await execa('python3', [PTY_DRIVE, '33', '101', ...stepArgs, '--', TSNSPAWN, ...args], { reject: false, timeout: 30_000 });
  return { exitCode: r.exitCode ?? -1, output: String(r.stdout) };
}

describe('console modes', { skip }, () => {
  let tree = '';
  before(() => {
    tree = image('busybox');
  });

  it('read-only (default without a terminal): output arrives, /dev/console is a pty, stdin is not forwarded', async () => {
    const r = await runClean(
      ['-q', '-D', tree, '/bin/sh', '-c', 'tty; stat -c "%F %t" /dev/console; read -t 1 line; echo "read:[$line]"'],
      [tree],
      { input: 'typed\n' },
    );
    assert.equal(r.exitCode, 0, r.stderr);
    // The pty is the payload's stdio (devpts major 136 is 0x88), and stdin is not relayed.
    assert.match(r.stdout, /^\/dev\/(console|pts\/\d+)\ncharacter special file 88\nread:\[\]\n$/);
  });

  it('pipe: stdin, stdout and stderr pass straight through and there is no /dev/console', async () => {
    const r = await runClean(
      ['-q', '--console=pipe', '-D', tree, '/bin/sh', '-c', 'cat; echo to-stderr >&2; test -e /dev/console && echo console || echo no-console'],
      [tree],
      { input: 'line one\nline two\n' },
    );
    assert.equal(r.stdout, 'line one\nline two\nno-console\n');
    assert.equal(r.stderr, 'to-stderr\n');
  });

  it('-P is pipe mode and quiet', async () => {
    const r = await runClean(['-P', '-D', tree, '/bin/echo', 'hi'], [tree]);
    assert.equal(r.stdout, 'hi\n');
    assert.equal(r.stderr, '');
  });

  it('passive: a pty exists but nothing is shown', async () => {
    const r = await runClean(['-q', '--console=passive', '-D', tree, '/bin/sh', '-c', 'echo hidden; test -c /dev/console && exit 7'], [tree]);
    assert.equal(r.stdout, '');
    assert.equal(r.exitCode, 7);
  });

  it('delivers output promptly, before the container exits', async () => {
    const before = snapshot();
    const child = start(['-q', '-D', tree, '/bin/sh', '-c', 'echo early; sleep 30']);
    const first = await new Promise<string>((resolve, reject) => {
      child.stdout!.once('data', (d: Buffer) => resolve(d.toString()));
      child.once('exit', () => reject(new Error('exited before output')));
    });
    assert.equal(first, 'early\n');
    child.kill('SIGTERM');
    const r = await child;
    assert.equal(r.exitCode, 1, 'killed containers exit 1');
    await assertNoLeaks(before, [tree]);
  });

  it('interactive on a terminal: raw relay both ways with the window size', async () => {
    const before = snapshot();
    const r = await underTerminal(['-q', '-D', tree, '/bin/sh', '-c', 'tty; stty size; echo ready; read line; echo "got:$line"'], [['ready', 'hello\\r']]);
    assert.equal(r.exitCode, 0, r.output);
    assert.match(r.output, /\/dev\/(console|pts\/\d+)\r\n33 101\r\nready\r\n/);
    // The guest's own terminal echoes what was typed, then the shell answers.
    assert.match(r.output, /hello\r\ngot:hello/);
    await assertNoLeaks(before, [tree]);
  });

  it('interactive: ^] three times within a second kills the container', async () => {
    const before = snapshot();
    const r = await underTerminal(['-D', tree, '/bin/sh', '-c', 'echo ready; exec sleep 30'], [['ready', '\\x1d\\x1d\\x1d']]);
    assert.equal(r.exitCode, 1);
    assert.match(r.output, /Press \^\] three times within 1s to kill container\./);
    assert.match(r.output, /terminated by signal KILL/);
    await assertNoLeaks(before, [tree]);
  });

  it('--console=interactive without a terminal is refused', async () => {
    const r = await runClean(['--console=interactive', '-D', tree, '/bin/true'], [tree]);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /^tsnspawn: cannot use --console=interactive: stdin and stdout must be terminals/);
  });
});

describe('signals to tsnspawn', { skip }, () => {
  let tree = '';
  before(() => {
    tree = image('busybox');
  });

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    it(`${sig} without a kill signal kills the container at once and exits 1`, async () => {
      const before = snapshot();
      const child = start(['-q', '-D', tree, '/bin/sh', '-c', 'echo up; sleep 30']);
      await new Promise((resolve) => child.stdout!.once('data', resolve));
      const t0 = Date.now();
      child.kill(sig);
      const r = await child;
      assert.equal(r.exitCode, 1);
      assert.match(String(r.stderr), /terminated by signal KILL/);
      assert.ok(Date.now() - t0 < 10_000, 'the container ended long before its sleep would');
      await assertNoLeaks(before, [tree]);
    });
  }

  it('--kill-signal is sent first; the same signal again kills', async () => {
    const before = snapshot();
    // PID 1 traps SIGUSR1 and keeps running, so the second SIGTERM must kill it.
    const child = start([
      '-q', '--kill-signal=SIGUSR1', '-D', tree, '/bin/sh', '-c',
      'trap "echo got-usr1" USR1; echo up; while :; do sleep 0.1; done',
    ]);
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    child.kill('SIGTERM');
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    child.kill('SIGTERM');
    const r = await child;
    assert.match(String(r.stdout), /got-usr1/);
    assert.equal(r.exitCode, 1);
    await assertNoLeaks(before, [tree]);
  });
});
