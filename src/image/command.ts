/** Which program PID 1 runs, checked against the tree before launch. */
import { refuse } from '../util/errors.js';
import { resolveInRoot } from './in-root.js';
import { DEFAULT_PATH } from '../plan/environment.js';

export interface Payload {
  /** Path inside the tree that the helper executes. */
  exec: string;
  argv: string[];
}

function isExecutableFile(root: string, inner: string): 'ok' | 'missing' | 'not-executable' {
  const r = resolveInRoot(root, inner);
  if (!r) return 'missing';
  if (!r.stat.isFile()) return 'not-executable';
  return (r.stat.mode & 0o111) !== 0 ? 'ok' : 'not-executable';
}

/** An absolute inner path without '.', '..' or doubled slashes ('..' stops at '/'). */
function normalise(inner: string): string {
  const out: string[] = [];
  for (const seg of inner.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}

/** Whether an inner path is at or below one of the given mount points. */
function isUnder(inner: string, mountPoints: readonly string[]): boolean {
  const path = normalise(inner);
  return mountPoints.some((m) => m === '/' || path === m || path.startsWith(`${m}/`));
}

/**
 * Resolves COMMAND inside the tree: a path, or a name searched in PATH.
 * mountPoints: where --bind/--overlay/--tmpfs put something else over the
 * tree; what lies there is not the tree's to check, so the helper's execve
 * has the last word (nspawn runs a program bound in from the host).
 */
export function resolveCommand(root: string, command: readonly string[], pathVar = DEFAULT_PATH, mountPoints: readonly string[] = []): Payload {
  const name = command[0]!;
  if (name === '') refuse('invalid command: the program name is empty');
  if (name.includes('/')) {
    const inner = name.startsWith('/') ? name : `/${name}`;
    if (isUnder(inner, mountPoints)) return { exec: inner, argv: [...command] };
    const state = isExecutableFile(root, inner);
    if (state === 'missing') refuse(`cannot run ${name}: no such file in the tree ${root} (give a path that exists inside the container)`);
    if (state === 'not-executable') refuse(`cannot run ${name}: not an executable file in the tree ${root} (check its mode or give another program)`);
    return { exec: inner, argv: [...command] };
  }
  let sawNonExecutable = false;
  for (const dir of pathVar.split(':').filter((d) => d.startsWith('/'))) {
    const state = isExecutableFile(root, `${dir}/${name}`);
    if (state === 'ok') return { exec: `${dir}/${name}`, argv: [...command] };
    if (state === 'not-executable') sawNonExecutable = true;
  }
  // A PATH directory covered by a mount: the helper searches PATH itself.
  if (pathVar.split(':').some((d) => d.startsWith('/') && isUnder(d, mountPoints))) return { exec: name, argv: [...command] };
  if (sawNonExecutable) refuse(`cannot run ${name}: found in the tree's PATH but not executable (check its mode)`);
  refuse(`cannot run ${name}: not found in the tree's PATH (${pathVar}); give the full path inside the container`);
}

/** No COMMAND: the user's login shell from the tree, else bash, else sh, as a login shell. */
export function defaultShell(root: string, userShell: string): Payload {
  for (const shell of [userShell, '/bin/bash', '/usr/bin/bash', '/bin/sh', '/usr/bin/sh']) {
    if (shell && isExecutableFile(root, shell) === 'ok') {
      const base = shell.split('/').pop()!;
      return { exec: shell, argv: [`-${base}`] };
    }
  }
  refuse(`${root} has no shell to run (no ${userShell}, /bin/bash or /bin/sh); give a COMMAND`);
}
