/**
 * A test process that starts a container with the API and then leaves it
 * without cleaning up. It prints tsnspawn's pid, the container's leader and
 * name, one JSON line, then:
 *   exit     calls process.exit
 *   hang     keeps running until it is killed
 *   return   just returns: nothing keeps the process alive, it ends by itself
 *   abandon  drops the handle and keeps running, collecting garbage (run
 *            with --expose-gc) until tsnspawn is gone; prints "collected"
 *   await    (the command exits 7 after a second) awaits, without a timeout, the container's
 *            end, which alone keeps the process alive; prints the status
 * Usage: node [--expose-gc] api-child.js TREE MODE
 */
import { run } from '../../src/api/index.js';

const [tree, mode] = process.argv.slice(2);

/** Starts the container in a scope of its own, so that nothing keeps the handle once this returns. */
async function start(): Promise<number> {
  const command = mode === 'await' ? ['/bin/sh', '-c', 'sleep 1; exit 7'] : ['/bin/sleep', '1000'];
  const c = await run({ directory: tree!, ephemeral: true, register: 'no', command });
  if (mode === 'await') {
    process.stdout.write(JSON.stringify({ pid: c.pid, leader: c.facts.leader, name: c.name }) + '\n');
    process.stdout.write(`${(await c.exited({ timeout: Infinity })).status}\n`);
    return c.pid!;
  }
  process.stdout.write(JSON.stringify({ pid: c.pid, leader: c.facts.leader, name: c.name }) + '\n');
  return c.pid!;
}

const pid = await start();
if (mode === 'exit') process.exit(0);
if (mode === 'hang') setInterval(() => {}, 1 << 30);
if (mode === 'abandon') {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('abandon needs node --expose-gc');
  const tick = setInterval(() => {
    gc();
    try {
      process.kill(pid, 0);
    } catch {
      clearInterval(tick);
      process.stdout.write('collected\n');
    }
  }, 100);
}
