/** The Debian 12 test tree as rootfs archives, made once per tree build. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { image } from './images.js';

const ARCHIVES = '/var/cache/tsnspawn-test/archives';

/** The Debian 12 tree as an archive in each format, made once per tree build. */
export function archives(): Record<string, string> {
  const tree = image('debian12');
  const base = `${ARCHIVES}/${tree.split('/').pop()}`;
  mkdirSync(ARCHIVES, { recursive: true });
  // Older builds' archives go.
  for (const f of readdirSync(ARCHIVES)) if (f.startsWith('debian12-') && !f.startsWith(base.split('/').pop()!)) rmSync(`${ARCHIVES}/${f}`, { force: true });
  const plain = `${base}.tar`;
  const make = (out: string, cmd: string): void => {
    if (existsSync(out)) return;
    execFileSync('sh', ['-c', `${cmd} > "${out}.tmp" && mv "${out}.tmp" "${out}"`]);
  };
  make(plain, `tar --xattrs --xattrs-include='*' --numeric-owner -cpf - -C "${tree}" .`);
  make(`${plain}.gz`, `gzip -1c "${plain}"`);
  make(`${plain}.xz`, `xz -T2 -0c "${plain}"`);
  make(`${plain}.zst`, `zstd -T2 -3 -qc "${plain}"`);
  return { tar: plain, gzip: `${plain}.gz`, xz: `${plain}.xz`, zstd: `${plain}.zst` };
}

