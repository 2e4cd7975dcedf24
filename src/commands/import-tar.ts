/** `tsnspawn import-tar`: see src/image/import/. */
import { refuse } from '../util/errors.js';

export async function importTarCommand(args: string[]): Promise<number> {
  const { parseImportArgs } = await import('../image/import/args.js');
  const opts = parseImportArgs(args);
  if (process.getuid?.() !== 0) refuse('importing a tree needs root (owners, device nodes, xattrs): run tsnspawn as root');
  const { importTar } = await import('../image/import/import-tar.js');
  await importTar(opts);
  return 0;
}
