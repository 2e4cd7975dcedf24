/**
 * A test process that starts a container with the API and then ends without
 * cleaning up: `exit` calls process.exit, `hang` waits to be killed. It
 * prints tsnspawn's pid, the container's leader and name, one JSON line.
 * Usage: node api-child.js TREE exit|hang
 */
import { run } from '../../src/api/index.js';

const [tree, mode] = process.argv.slice(2);
const c = await run({ directory: tree!, ephemeral: true, register: 'no', command: ['/bin/sleep', '1000'] });
process.stdout.write(JSON.stringify({ pid: c.pid, leader: c.facts.leader, name: c.name }) + '\n');
if (mode === 'exit') process.exit(0);
setInterval(() => {}, 1 << 30);
