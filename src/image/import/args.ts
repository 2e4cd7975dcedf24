/** The import-tar command line: [--output DIR] [--force] [-q] FILE|- [NAME]. */
import { UserError } from '../../util/errors.js';
import type { ImportOptions } from './import-tar.js';

export const IMPORT_USAGE = 'usage: tsnspawn import-tar [--output=DIR] [--force] [-q] FILE|- [NAME]';

export function parseImportArgs(argv: string[]): ImportOptions {
  const opts: ImportOptions = { file: '', force: false, quiet: false };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--force') opts.force = true;
    else if (a === '-q' || a === '--quiet') opts.quiet = true;
    else if (a === '--output' || a === '-o') {
      if (i + 1 >= argv.length) throw new UserError(`option '${a}' needs a value (${IMPORT_USAGE})`);
      opts.output = argv[++i];
    } else if (a.startsWith('--output=')) opts.output = a.slice('--output='.length);
    else if (a.startsWith('-') && a !== '-') throw new UserError(`unknown option '${a}' for import-tar (${IMPORT_USAGE})`);
    else positional.push(a);
  }
  if (positional.length < 1 || positional.length > 2) throw new UserError(`import-tar takes FILE and an optional NAME (${IMPORT_USAGE})`);
  opts.file = positional[0]!;
  opts.name = positional[1];
  if (opts.output !== undefined && !opts.output.startsWith('/')) throw new UserError(`invalid --output=${opts.output}: use an absolute path`);
  return opts;
}
