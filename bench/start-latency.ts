/**
 * Start latency: `/bin/true` in the busybox tree, tsnspawn against
 * `systemd-nspawn --register=no --keep-unit -q -D tree /bin/true` with the
 * same arguments, and runc and bubblewrap as reference rows (each against
 * systemd-nspawn too). All four alternate in one loop.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { image, NSPAWN, runs, scratchDir, TSNSPAWN } from './lib/env.js';
import { alternate, timeOnce, type Command } from './lib/run.js';
import { row, type Row } from './lib/row.js';

const SECTION = 'start';
const MEASURE = 'start /bin/true (busybox tree)';

/** An OCI bundle for runc: `runc spec`, rootfs = the tree (read-only), /bin/true, no terminal. */
function runcBundle(tree: string): string {
  const dir = scratchDir('runc');
  execFileSync('runc', ['spec'], { cwd: dir });
  const config = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8'));
  config.root = { path: tree, readonly: true };
  config.process.args = ['/bin/true'];
  config.process.terminal = false;
  // The same namespaces as the others: systemd-nspawn and tsnspawn keep the host's network by default.
  config.linux.namespaces = config.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
  writeFileSync(`${dir}/config.json`, JSON.stringify(config));
  return dir;
}

export async function startLatency(): Promise<Row[]> {
  const tree = image('busybox');
  const common = ['--register=no', '--keep-unit', '-q', '-D', tree, '/bin/true'];
  const ours: Command = [TSNSPAWN, common];
  const nspawn: Command = [NSPAWN, common];
  const bwrap: Command = ['bwrap', ['--ro-bind', tree, '/', '--proc', '/proc', '--dev', '/dev', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '/bin/true']];
  const bundle = runcBundle(tree);
  const state = `${bundle}/state`;
  let n = 0;
  const runc = (): number => {
    const id = `tsnspawn-bench-${process.pid}-${n++}`;
    try {
      return timeOnce(['runc', ['--root', state, 'run', '--bundle', bundle, id]]);
    } finally {
      // `runc run` deletes the container when it ends; make sure no state stays behind.
      if (existsSync(`${state}/${id}`)) spawnSync('runc', ['--root', state, 'delete', '--force', id], { stdio: 'ignore' });
    }
  };
  try {
    const [a, b, c, d] = await alternate(runs(30), [() => timeOnce(ours), () => timeOnce(nspawn), runc, () => timeOnce(bwrap)]);
    return [
      row(SECTION, MEASURE, 'ms', 'tsnspawn', a!, 'systemd-nspawn', b!, 'both: --register=no --keep-unit -q (console: read-only pty, the default without a terminal)'),
      row(SECTION, MEASURE, 'ms', 'runc (reference)', c!, 'systemd-nspawn', b!, 'runc spec bundle, read-only root, no network namespace, state removed after each run'),
      row(SECTION, MEASURE, 'ms', 'bubblewrap (reference)', d!, 'systemd-nspawn', b!, 'bwrap --ro-bind tree / --proc --dev, pid/ipc/uts/cgroup namespaces'),
    ];
  } finally {
    rmSync(bundle, { recursive: true, force: true });
  }
}
