/**
 * What a run may not leave behind on the host: mounts, helper processes,
 * processes living inside a test tree, temp dirs, cgroups named
 * tsnspawn-* in any hierarchy, runtime records, links named ve-/vb-/vz-,
 * nftables tables named tsnspawn-* (--port), and overlay work directories
 * (.#tsnspawn-work-*) where tests keep upper trees (below /tmp and
 * /var/tmp). Snapshot before, compare after.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { HELPER } from './paths.js';

export interface HostState {
  mounts: string[];
  helpers: number[];
  tmpEntries: string[];
  cgroups: string[];
  records: string[];
  /** Locks of uid ranges (-U): nspawn's /run/systemd/nspawn-uid, which tsnspawn shares. */
  uidRanges: string[];
  /** Links named as tsnspawn names them (ve-, vb-, vz-) in our network namespace. */
  links: string[];
  /** nftables tables of --port (inet tsnspawn-*). */
  nftTables: string[];
  /** /run/systemd/nspawn/propagate/NAME: machinectl bind's path into a container (src/runtime/propagate.ts). */
  propagate: string[];
  /** Loop devices backed by a file of the tests' (-i images under /var/tmp/tsnspawn-*, /var/cache/tsnspawn-test): "loopN FILE". */
  loops: string[];
  /** nspawn's tree locks in /run (tsnspawn takes the same ones: src/plan/tree-lock.ts). */
  treeLocks: string[];
  /** Overlay work directories the monitor makes beside an --overlay upper tree (native/workdir.c). */
  workdirs: string[];
}

/** Where the tests keep disk images for -i (test/harness/disk-images.ts). */
const TEST_IMAGE_DIRS = ['/var/tmp/tsnspawn-', '/var/cache/tsnspawn-test/'];

/** Attached loop devices whose backing file is one of the tests', from sysfs (what losetup -a reads). */
export function testLoopDevices(): string[] {
  return entries('/sys/block')
    .filter((d) => d.startsWith('loop'))
    .flatMap((d) => {
      try {
        const file = readFileSync(`/sys/block/${d}/loop/backing_file`, 'utf8').trim();
        return TEST_IMAGE_DIRS.some((p) => file.startsWith(p)) ? [`${d} ${file}`] : [];
      } catch {
        return [];
      }
    })
    .sort();
}

/** Where tests make their upper trees: temporary directories, a few levels down. */
const WORKDIR_ROOTS = ['/tmp', '/var/tmp'];
const WORKDIR_DEPTH = 4;
const WORKDIR_PREFIX = '.#tsnspawn-work-';

/**
 * Directories whose name starts with prefix below dir, at most depth levels
 * down (symlinks not followed); one that matches is not looked into.
 */
function namedDirsBelow(dir: string, prefix: string, depth = Infinity): string[] {
  let found;
  try {
    found = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return found
    .filter((e) => e.isDirectory())
    .flatMap((e) => (e.name.startsWith(prefix) ? [`${dir}/${e.name}`] : depth > 1 ? namedDirsBelow(`${dir}/${e.name}`, prefix, depth - 1) : []));
}

export function overlayWorkdirs(): string[] {
  return WORKDIR_ROOTS.flatMap((r) => namedDirsBelow(r, WORKDIR_PREFIX, WORKDIR_DEPTH)).sort();
}

const LINK_PREFIXES = ['ve-', 'vb-', 'vz-'];

function links(): string[] {
  try {
    return readdirSync('/sys/class/net').filter((n) => LINK_PREFIXES.some((p) => n.startsWith(p))).sort();
  } catch {
    return [];
  }
}

function nftTables(): string[] {
  const nft = ['/usr/sbin/nft', '/sbin/nft'].find((p) => existsSync(p));
  if (!nft) return [];
  try {
    return execFileSync(nft, ['list', 'tables', 'inet'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .map((l) => l.replace(/^table inet /, ''))
      .filter((t) => t.startsWith('tsnspawn-'))
      .sort();
  } catch {
    return [];
  }
}

/** Where each cgroup hierarchy is mounted (cgroup v1 with or without controllers, cgroup2), from our mountinfo. */
export function cgroupMountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' '))
    .filter((f) => ['cgroup', 'cgroup2'].includes(f[f.indexOf('-') + 1]!))
    .map((f) => f[4]!.replace(/\\040/g, ' '));
}

/** Directories named tsnspawn-* in every mounted cgroup hierarchy, at any depth. */
export function tsnspawnCgroups(): string[] {
  return cgroupMountPoints().flatMap((m) => namedDirsBelow(m, 'tsnspawn-'));
}

function uidRanges(): string[] {
  try {
    return readdirSync('/run/systemd/nspawn-uid').sort();
  } catch {
    return [];
  }
}

function records(): string[] {
  return entries('/run/tsnspawn/machines');
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** Mount points with their fs types, without the ids that change from run to run. */
function mounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const f = l.split(' ');
      const sep = f.indexOf('-');
      return `${f[4]} ${f[sep + 1]} ${f[3]}`;
    })
    .sort();
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

function rootOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/root`);
  } catch {
    return undefined;
  }
}

export function snapshot(): HostState {
  return {
    mounts: mounts(),
    helpers: pids().filter((p) => exeOf(p) === HELPER),
    tmpEntries: readdirSync('/tmp').filter((n) => n.startsWith('tsnspawn')).sort(),
    cgroups: tsnspawnCgroups().sort(),
    records: records(),
    uidRanges: uidRanges(),
    links: links(),
    nftTables: nftTables(),
    propagate: entries('/run/systemd/nspawn/propagate'),
    loops: testLoopDevices(),
    treeLocks: entries('/run/systemd/nspawn/locks'),
    workdirs: overlayWorkdirs(),
  };
}

/** Processes whose root directory is inside one of the given trees (i.e. container processes). */
export function processesInside(trees: string[]): number[] {
  return pids().filter((p) => {
    const r = rootOf(p);
    return r !== undefined && trees.some((t) => r === t || r.startsWith(t + '/'));
  });
}

/** Differences between two snapshots, as readable lines (empty when nothing leaked). */
export function leaks(before: HostState, after: HostState, trees: string[]): string[] {
  const out: string[] = [];
  const b = new Set(before.mounts);
  const a = new Set(after.mounts);
  for (const m of after.mounts) if (!b.has(m)) out.push(`new mount: ${m}`);
  for (const m of before.mounts) if (!a.has(m)) out.push(`mount gone: ${m}`);
  for (const p of after.helpers) if (!before.helpers.includes(p)) out.push(`helper process still running: ${p}`);
  for (const t of after.tmpEntries) if (!before.tmpEntries.includes(t)) out.push(`temp entry left: /tmp/${t}`);
  for (const c of after.cgroups) if (!before.cgroups.includes(c)) out.push(`cgroup left: ${c}`);
  for (const r of after.records) if (!before.records.includes(r)) out.push(`runtime record left: /run/tsnspawn/machines/${r}`);
  for (const u of after.uidRanges) if (!before.uidRanges.includes(u)) out.push(`uid range still locked: /run/systemd/nspawn-uid/${u}`);
  for (const l of after.links) if (!before.links.includes(l)) out.push(`link left: ${l}`);
  for (const t of after.nftTables) if (!before.nftTables.includes(t)) out.push(`nftables table left: inet ${t}`);
  for (const d of after.propagate) if (!before.propagate.includes(d)) out.push(`propagation directory left: /run/systemd/nspawn/propagate/${d}`);
  for (const l of after.loops) if (!before.loops.includes(l)) out.push(`loop device left attached: ${l}`);
  for (const l of after.treeLocks) if (!before.treeLocks.includes(l)) out.push(`tree lock left: /run/systemd/nspawn/locks/${l}`);
  for (const w of after.workdirs) if (!before.workdirs.includes(w)) out.push(`overlay work directory left: ${w}`);
  for (const p of processesInside(trees)) out.push(`process ${p} still runs inside a test tree`);
  return out;
}
