/**
 * --tarball=FILE: the archive is unpacked once into a cache keyed by its
 * content hash; each run is an ephemeral overlay of that tree. A small index
 * keyed by (device, inode, size, mtime) spares hashing the same file again.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { refuse } from '../util/errors.js';

export const TARBALL_CACHE = process.env.TSNSPAWN_TARBALL_CACHE ?? '/var/cache/tsnspawn/tarballs';

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Returns the unpacked tree of the archive, unpacking it first if needed. */
export async function treeForTarball(file: string, quiet: boolean): Promise<string> {
  let st;
  try {
    st = statSync(file);
  } catch {
    refuse(`cannot use --tarball=${file}: no such file`);
  }
  if (!st.isFile()) refuse(`cannot use --tarball=${file}: not a regular file`);
  mkdirSync(`${TARBALL_CACHE}/index`, { recursive: true });
  const key = `${st.dev}-${st.ino}-${st.size}-${st.mtimeMs}`;
  const indexFile = `${TARBALL_CACHE}/index/${key}`;
  let hash = existsSync(indexFile) ? readFileSync(indexFile, 'utf8').trim() : '';
  if (!/^[0-9a-f]{64}$/.test(hash)) {
    hash = await sha256(file);
    writeFileSync(indexFile, `${hash}\n`);
  }
  const tree = `${TARBALL_CACHE}/${hash.slice(0, 32)}`;
  if (!existsSync(tree)) {
    const { importTar } = await import('./import/import-tar.js');
    await importTar({ file, output: tree, force: false, quiet });
  }
  return tree;
}
