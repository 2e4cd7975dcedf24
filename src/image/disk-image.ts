/**
 * -i/--image: a disk image as the container's tree, as systemd-nspawn runs
 * one: a GPT image whose partitions are found by their Discoverable
 * Partitions types (root, /usr, /home, /srv, /var, /var/tmp of this
 * architecture), or a file holding one file system.
 *
 * The helper's image holder (native/image.c) attaches the file to a loop
 * device (autoclear) and mounts the partitions in a mount namespace of its
 * own, never on the host. Node reads the tree through /proc/HOLDER/root
 * (every check of prepare() works on it as on a directory); the plan names
 * the tree by its path inside that namespace and carries the holder's pid,
 * and the monitor joins the namespace before it opens the tree. So the
 * mounts live only as long as the monitor and the container, and the loop
 * device goes with the last of them, whatever ends tsnspawn.
 */
import { spawn } from 'node:child_process';
import { lstatSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { HELPER_PATH } from '../runtime/helper.js';
import { refuse } from '../util/errors.js';
import { machineNameFromDirectory, parseMachineName } from '../settings/values.js';
import type { Located } from './locate.js';
import { setImageRelease } from './image-release.js';

export interface DiskImage {
  /** The tree as the monitor and the container see it (the plan's root). */
  root: string;
  /** How Node reads it: the tree through the holder's root, in the holder's namespace. */
  located: Located;
  /** What nspawn's lock is taken on for -i: the image file itself (image_path_lock), not the mounted root. */
  lockTarget: { path: string; id: { dev: string; ino: string } };
  holderPid: number;
  /** The loop device, e.g. /dev/loop3 (messages, tests). */
  loop: string;
  /** Attached read-only (--read-only, -x, or a file tsnspawn may not write). */
  readOnly: boolean;
  /** The root partition is mounted read-only (the above, or its GPT read-only flag). */
  rootReadOnly: boolean;
  /** The default machine name: the file's name without .raw (machineNameFromImage). */
  machineName: string;
}

interface HolderReply {
  root?: string;
  loop?: string;
  readOnly?: boolean;
  rootReadOnly?: boolean;
  error?: string;
}

/** nspawn's machine name for an image: its file name without ".raw". */
export function machineNameFromImage(path: string): string {
  return machineNameFromDirectory(basename(path).replace(/\.raw$/, ''));
}

/** Starts the holder and waits for its one line; refuses with its reason. */
export async function attachDiskImage(path: string, machine: string | undefined, readOnly: boolean): Promise<DiskImage> {
  const option = `--image=${path}`;
  try {
    lstatSync(path);
  } catch {
    refuse(`cannot use ${option}: no such file`);
  }
  const name = machine ?? parseMachineName(machineNameFromImage(path));
  const child = spawn(HELPER_PATH, ['--image', resolve(path), '--name', name, ...(readOnly ? ['--read-only'] : [])], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once('exit', () => done());
    child.once('error', () => done());
  });
  // Node's exit (or a refusal below) ends the holder, and waits for it: its loop device is gone when we are.
  setImageRelease(async () => {
    child.stdin?.destroy();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const reply = await new Promise<HolderReply | undefined>((done) => {
    let text = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl >= 0) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.destroy();
        try {
          done(JSON.parse(text.slice(0, nl)) as HolderReply);
        } catch {
          done(undefined);
        }
      }
    });
    void exited.then(() => done(undefined));
  });
  if (!reply) refuse(`cannot use ${option}: the image helper ${HELPER_PATH} ended without a word`);
  if (reply.error !== undefined || !reply.root || !reply.loop || child.pid === undefined) refuse(`cannot use ${option}: ${reply.error ?? 'the image helper said nothing useful'}`);
  const view = `/proc/${child.pid}/root${reply.root}`;
  const st = lstatSync(view, { bigint: true });
  return {
    root: reply.root,
    located: { root: view, option, named: resolve(path), id: { dev: String(st.dev), ino: String(st.ino) } },
    lockTarget: { path: resolve(path), id: fileId(path) },
    holderPid: child.pid,
    loop: reply.loop,
    readOnly: reply.readOnly === true,
    rootReadOnly: reply.rootReadOnly === true,
    machineName: machineNameFromImage(path),
  };
}

function fileId(path: string): { dev: string; ino: string } {
  const st = statSync(path, { bigint: true });
  return { dev: String(st.dev), ino: String(st.ino) };
}
