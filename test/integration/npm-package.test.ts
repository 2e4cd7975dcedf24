/**
 * `npm pack` and `npm install -g` of the tarball: the package builds its own
 * helper and handover addon at install (a C compiler is all it needs
 * besides Node) and the installed tsnspawn runs a container and hands it
 * over to the supervisor; the API imports by the package's
 * name, with its declarations. Needs root (and the npm registry,
 * for commander).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { execa } from 'execa';
import { image } from '../harness/images.js';
import { TOP } from '../harness/paths.js';
import { rootSkipReason } from '../harness/root.js';

describe('the npm package', { skip: rootSkipReason() }, () => {
  const dir = mkdtempSync('/var/tmp/tsnspawn-npm-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('npm install -g of the packed tarball gives a tsnspawn that runs a container with a helper it built itself', async () => {
    execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: TOP, stdio: ['ignore', 'ignore', 'inherit'] });
    const [tarball] = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack made a tarball');
    const listing = execFileSync('tar', ['-tzf', `${dir}/${tarball}`], { encoding: 'utf8' });
    assert.ok(!listing.includes('package/native/tsnspawn-helper\n'), 'no prebuilt helper in the package');
    assert.ok(!/\.node\n/.test(listing), 'no prebuilt addon in the package');
    assert.ok(listing.includes('package/units/tsnspawn@.service.in\n'));

    execFileSync('npm', ['install', '-g', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', `${dir}/prefix`, `${dir}/${tarball}`], { stdio: ['ignore', 'ignore', 'inherit'] });
    const installed = `${dir}/prefix/lib/node_modules/tsnspawn`;
    assert.ok(existsSync(`${installed}/native/tsnspawn-helper`), 'the helper was built at install');
    assert.ok(existsSync(`${installed}/native/tsnspawn-handover.node`), 'the handover addon was built at install');

    // The package's launcher runs the `node` on PATH: the one the checkout runs on (22 or later).
    const node = realpathSync(process.execPath);
    const r = await execa(`${dir}/prefix/bin/tsnspawn`, ['-q', '--register=no', '-D', image('busybox'), '/bin/sh', '-c', 'echo "$container"'], {
      env: { PATH: `${node.slice(0, node.lastIndexOf('/'))}:${process.env.PATH}` },
      reject: false,
      stdin: 'ignore',
    });
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.equal(r.stdout, 'systemd-nspawn');

    // A second into a run Node hands the container over to the supervisor, through the addon the install built.
    const held = execa(`${dir}/prefix/bin/tsnspawn`, ['-q', '--register=no', '-x', '-D', image('busybox'), '/bin/sleep', '3'], {
      env: { PATH: `${node.slice(0, node.lastIndexOf('/'))}:${process.env.PATH}` },
      reject: false,
      stdin: 'ignore',
    });
    // The pid runs sh, the helper as launcher, Node, then the helper as supervisor: its command line tells the last.
    const supervisor = (): string | undefined => {
      try {
        return readFileSync(`/proc/${held.pid}/cmdline`, 'utf8').split('\0').includes('--supervise') ? readlinkSync(`/proc/${held.pid}/exe`) : undefined;
      } catch {
        return undefined;
      }
    };
    let exe: string | undefined;
    while ((exe = supervisor()) === undefined && held.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    assert.equal(exe, `${installed}/native/tsnspawn-helper`, 'the supervisor holds the container');
    assert.equal((await held).exitCode, 0);

    // The API, imported by the package's name from a script beside node_modules, as a user's test would.
    assert.ok(existsSync(`${installed}/dist/api/index.d.ts`), 'the declarations are in the package');
    const user = `${dir}/prefix/lib`;
    writeFileSync(
      `${user}/use-api.mts`,
      [
        "import { run, type ExecResult } from 'tsnspawn';",
        'await using c = await run({ directory: process.argv[2]!, ephemeral: true, register: "no", command: ["/bin/sleep", "100"] });',
        "const r: ExecResult = await c.exec(['/bin/sh', '-c', 'echo $container']);",
        'console.log(r.code, r.stdout.trim());',
        '',
      ].join('\n'),
    );
    // The types resolve through the package's "exports" (tsc from the checkout).
    const tsc = await execa(node, [`${TOP}/node_modules/typescript/bin/tsc`, '--noEmit', '--strict', '--target', 'es2023', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--typeRoots', `${TOP}/node_modules/@types`, `${user}/use-api.mts`], { reject: false });
    assert.equal(tsc.exitCode, 0, `tsc: ${tsc.stdout}${tsc.stderr}`);
    // Node 24 runs the TypeScript file itself (type stripping).
    const api = await execa(node, [`${user}/use-api.mts`, image('busybox')], { env: { PATH: `${node.slice(0, node.lastIndexOf('/'))}:${process.env.PATH}` }, reject: false, stdin: 'ignore' });
    assert.equal(api.exitCode, 0, String(api.stderr));
    assert.equal(api.stdout, '0 systemd-nspawn');
  });
});
