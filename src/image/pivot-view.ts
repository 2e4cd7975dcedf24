/**
 * The tree as a container with --pivot-root will see it, for the checks
 * Node makes before the start: its root is PATH inside the tree, and with
 * PATH:OLDROOT the whole tree is mounted at OLDROOT inside that root. The
 * helper resolves every path again in the kernel (RESOLVE_IN_ROOT) on the
 * real mounts; this view only lets the checks ask the right directories.
 */
import type { PivotRootSpec } from '../settings/pivot-root.js';
import { pivotRootText } from '../settings/pivot-root.js';
import { refuse } from '../util/errors.js';
import { resolveInRoot, type Resolved } from './in-root.js';

export interface GuestView {
  /** The tree (-D, -M's directory): what the helper opens. */
  tree: string;
  /** Host path of the directory that becomes the container's root. */
  root: string;
  /** With PATH:OLDROOT: where inside the root the whole tree appears. */
  oldRoot?: string;
}

/** The tree without --pivot-root: the root is the tree. */
export function plainView(tree: string): GuestView {
  return { tree, root: tree };
}

/**
 * The view for --pivot-root: PATH must be a directory in the tree (resolved
 * inside it, as the helper will), OLDROOT a directory in PATH. Refused with
 * one line naming the option otherwise.
 */
export function pivotView(tree: string, spec: PivotRootSpec): GuestView {
  const option = `--pivot-root=${pivotRootText(spec)}`;
  const root = resolveInRoot(tree, spec.newRoot);
  if (!root) refuse(`cannot use ${option}: ${spec.newRoot} does not exist in the tree ${tree} (name a directory of the tree that holds an OS root)`);
  if (!root.stat.isDirectory()) refuse(`cannot use ${option}: ${spec.newRoot} is not a directory in the tree ${tree}`);
  if (spec.oldRoot !== undefined) {
    const old = resolveInRoot(root.host, spec.oldRoot);
    if (!old || !old.stat.isDirectory())
      refuse(`cannot use ${option}: ${spec.oldRoot} is not a directory in the new root ${root.host} (create it there, or leave OLDROOT out)`);
    return { tree, root: root.host, oldRoot: old.inner };
  }
  return { tree, root: root.host };
}

/**
 * innerPath as the container sees it: below OLDROOT (when the old root is
 * mounted there) it is the tree's, everything else the new root's.
 */
export function resolveInGuest(view: GuestView, innerPath: string): Resolved | undefined {
  if (view.oldRoot !== undefined && view.oldRoot !== '/') {
    const p = '/' + innerPath.split('/').filter((s) => s !== '' && s !== '.').join('/');
    if (p === view.oldRoot || p.startsWith(view.oldRoot + '/')) return resolveInRoot(view.tree, p.slice(view.oldRoot.length) || '/');
  }
  return resolveInRoot(view.root, innerPath);
}
