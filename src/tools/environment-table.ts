/**
 * Prints the README's table of systemd-nspawn's environment variables
 * (src/settings/nspawn-environment.ts); a unit test checks that README.md
 * holds exactly this.
 *
 *     node dist/src/tools/environment-table.js
 */
import { environmentTableMarkdown } from '../settings/nspawn-environment.js';

process.stdout.write(environmentTableMarkdown());
