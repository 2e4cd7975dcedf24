/**
 * Disk images for -i, made from a cached test tree (images/) as users make
 * them: systemd-repart with partition definitions (GPT, partitions typed by
 * the Discoverable Partitions Specification, ext4 with the files copied
 * in), or mkfs.ext4 -d for a plain file system image. Each test keeps its
 * images in a directory of its own under /var/tmp/tsnspawn-image-* and
 * removes it after.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';

export interface PartitionDefinition {
  /** repart's Type=: root, usr, home, srv, var, tmp, ... */
  type: string;
  /** A directory to copy in as the partition's top, or none (an empty file system). */
  copyFrom?: string;
  /** Further [Partition] lines, e.g. "ReadOnly=yes", "NoAuto=yes". */
  extra?: string[];
}

export class DiskImages {
  readonly dir: string;
  private n = 0;

  constructor() {
    this.dir = mkdtempSync('/var/tmp/tsnspawn-image-');
  }

  /** A GPT image of the given partitions, named NAME.raw. */
  gpt(name: string, partitions: PartitionDefinition[]): string {
    const defs = `${this.dir}/defs-${this.n++}`;
    mkdirSync(defs);
    partitions.forEach((p, i) => {
      const lines = ['[Partition]', `Type=${p.type}`, 'Format=ext4', ...(p.copyFrom ? [`CopyFiles=${p.copyFrom}:/`] : []), ...(p.extra ?? [])];
      writeFileSync(`${defs}/${String(10 + i)}-${p.type}.conf`, lines.join('\n') + '\n');
    });
    const file = `${this.dir}/${name}.raw`;
    execFileSync('systemd-repart', ['--empty=create', '--size=auto', '--dry-run=no', '--no-pager', `--definitions=${defs}`, file], { stdio: ['ignore', 'ignore', 'pipe'] });
    return file;
  }

  /** The tree split in two: everything but /usr (with an empty /usr to mount on), and /usr. */
  splitUsr(tree: string): { root: string; usr: string } {
    const root = `${this.dir}/split-root`;
    const usr = `${this.dir}/split-usr`;
    cpSync(tree, root, { recursive: true, verbatimSymlinks: true, filter: (src) => src !== `${tree}/usr` });
    mkdirSync(`${root}/usr`);
    cpSync(`${tree}/usr`, usr, { recursive: true, verbatimSymlinks: true });
    return { root, usr };
  }

  /** One ext4 file system holding the tree, no partition table. */
  plainExt4(name: string, tree: string): string {
    const file = `${this.dir}/${name}.raw`;
    execFileSync('truncate', ['-s', '64M', file]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-d', tree, file], { stdio: ['ignore', 'ignore', 'pipe'] });
    return file;
  }

  /** A file that starts as a LUKS volume does (its magic), and holds nothing else. */
  luksLookalike(name: string): string {
    const file = `${this.dir}/${name}.raw`;
    const data = Buffer.alloc(1 << 20);
    Buffer.from('LUKS\xba\xbe', 'latin1').copy(data);
    writeFileSync(file, data);
    return file;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
