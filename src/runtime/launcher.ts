/**
 * What bin/tsnspawn (native/launch.c) hands Node, in the environment:
 *
 *   TSNSPAWN_HELPER=FD:PID  the monitor it forked before Node started, and
 *                           a stream socket to it. Forking a small static
 *                           launcher costs a fraction of child_process.spawn
 *                           (which forks all of Node), and the monitor
 *                           starts while Node does.
 *   TSNSPAWN_TTY=IO         whether stdin (I) and stdout (O) are terminals,
 *                           as 0 or 1: node:tty would load net and stream.
 *
 * Taken out of the environment first thing (nothing Node starts may see
 * them). The first Helper claims the monitor; when Node runs no container
 * it is released, and gone when tsnspawn is. Without the launcher (tests,
 * Node run again after a guest reboot) Node spawns its monitor and asks
 * node:tty.
 *
 * The socket is read and written with fs on its descriptor, so neither
 * net nor stream is loaded (about 6 ms of a start). A read waits in
 * libuv's thread pool, which process.exit() joins: the monitor is killed
 * on exit while its socket is open, so that read ends.
 */
import { closeSync, read, readFileSync, writeSync } from 'node:fs';

const HELPER_ENV = 'TSNSPAWN_HELPER';
const TTY_ENV = 'TSNSPAWN_TTY';

export interface PreforkedHelper {
  fd: number;
  pid: number;
}

let waiting: PreforkedHelper | undefined;
let ttys: { stdin: boolean; stdout: boolean } | undefined;

/** Takes the launcher's variables out of the environment; call before anything else runs. */
export function takeLauncherFacts(): void {
  const helper = /^(\d+):(\d+)$/.exec(process.env[HELPER_ENV] ?? '');
  const tty = /^([01])([01])$/.exec(process.env[TTY_ENV] ?? '');
  delete process.env[HELPER_ENV];
  delete process.env[TTY_ENV];
  // Only a child of ours: never a stale or stray value (we would kill that pid).
  if (helper && parentOf(Number(helper[2])) === process.pid) waiting = { fd: Number(helper[1]), pid: Number(helper[2]) };
  if (tty) ttys = { stdin: tty[1] === '1', stdout: tty[2] === '1' };
}

/** The parent pid of pid (from /proc/PID/stat), or undefined. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid ...: comm may hold spaces and parentheses.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Whether stdin and stdout are terminals. */
export function stdioTtys(): { stdin: boolean; stdout: boolean } {
  if (ttys) return ttys;
  const { isatty } = process.getBuiltinModule('node:tty');
  return { stdin: isatty(0), stdout: isatty(1) };
}

/** The pre-forked monitor, once: the first container uses it, any later one spawns its own. */
export function claimPreforkedHelper(): PreforkedHelper | undefined {
  const h = waiting;
  waiting = undefined;
  return h;
}

/** Node runs no container: the idle monitor is ended and awaited (it has done nothing yet). */
export async function releasePreforkedHelper(): Promise<void> {
  const h = waiting;
  waiting = undefined;
  if (!h) return;
  await new Promise<void>((resolve) => {
    new FdChannel(h.fd, h.pid, () => {}, resolve).start();
    try {
      process.kill(h.pid, 'SIGKILL');
    } catch {
      /* already gone: the read sees EOF */
    }
  });
}

/** Channels whose monitor is still there: killed if Node exits first. */
const live = new Set<FdChannel>();
let exitHook = false;

/**
 * A blocking stream socket on an inherited descriptor, without net: lines
 * are written with writeSync, chunks read in the thread pool. End of file
 * means the monitor is gone (the kernel closes a process's descriptors
 * once its memory is gone).
 */
export class FdChannel {
  private readonly buf = Buffer.allocUnsafe(64 * 1024);
  private readonly decoder = new TextDecoder();
  open = true;

  constructor(
    private readonly fd: number,
    private readonly pid: number,
    private readonly onData: (chunk: string) => void,
    private readonly onClose: () => void,
  ) {
    live.add(this);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const c of live) c.kill();
      });
    }
  }

  /**
   * Starts reading. The first read starts libuv's thread pool, and Node's
   * main thread waits until its threads run (long on a busy machine): the
   * plan goes out first, so that wait overlaps the monitor's work. Two
   * threads: this read holds one for the monitor's life, and nothing else
   * on a container's path uses the pool.
   */
  start(): void {
    const own = process.env.UV_THREADPOOL_SIZE === undefined;
    if (own) process.env.UV_THREADPOOL_SIZE = '2';
    this.readNext();
    if (own) delete process.env.UV_THREADPOOL_SIZE;
  }

  private readNext(): void {
    read(this.fd, this.buf, 0, this.buf.length, null, (err, n) => {
      if (err?.code === 'EINTR') return this.readNext();
      if (err || n === 0) return this.closed();
      const text = this.decoder.decode(this.buf.subarray(0, n), { stream: true });
      if (text) this.onData(text);
      this.readNext();
    });
  }

  private closed(): void {
    if (!this.open) return;
    this.open = false;
    live.delete(this);
    try {
      closeSync(this.fd);
    } catch {
      /* nothing to do */
    }
    this.onClose();
  }

  /** Writes all of text; false when the monitor is gone. */
  write(text: string): boolean {
    if (!this.open) return false;
    const bytes = Buffer.from(text);
    try {
      for (let off = 0; off < bytes.length; ) off += writeSync(this.fd, bytes, off);
      return true;
    } catch {
      return false;
    }
  }

  /** SIGKILL to the monitor (its container dies with it); the pending read then ends. */
  kill(): void {
    if (!this.open) return;
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
}
