/**
 * Prints the README's table of nspawn's options and .nspawn keys with what
 * tsnspawn does with each (src/settings/nspawn-options.ts); a unit test
 * checks that README.md holds exactly this.
 *
 *     node dist/src/tools/option-table.js
 */
import { optionTableMarkdown } from '../settings/nspawn-options.js';

process.stdout.write(optionTableMarkdown());
