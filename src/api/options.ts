/** What boot() and run() take, and the tsnspawn command line they become (pure). */

export interface StartOptions {
  /** The OS tree (-D). `image` is a synonym. */
  directory?: string;
  image?: string;
  /** A rootfs archive (--tarball): unpacked once, each run an overlay of it. */
  tarball?: string;
  /** Machine name (-M); with -x tsnspawn adds a random suffix. Without a directory, looked up as nspawn does. */
  machine?: string;
  /** Run on a throwaway overlay (-x). */
  ephemeral?: boolean;
  /** Bind mounts, as --bind (SRC[:DST[:OPTS]]). */
  bind?: string[];
  bindReadOnly?: string[];
  /** Environment for PID 1 (-E). */
  env?: Record<string, string>;
  /** A network namespace with only loopback. */
  privateNetwork?: boolean;
  /** --register=; default tsnspawn's own (auto: with machined when it is reachable). */
  register?: 'yes' | 'no' | 'auto';
  /** `pipe` (default: the console is collected, see output()) or `passive` (no console at all). */
  console?: 'pipe' | 'passive';
  /** More tsnspawn options, put before the command. */
  extraArgs?: string[];
  /** Aborting this kills the container, whenever it happens (a test's `t.signal`). */
  signal?: AbortSignal;
  /** Milliseconds to wait for the container to start (default 60 000). */
  timeout?: number;
}

export interface BootOptions extends StartOptions {
  /** Arguments for the guest's init (systemd.unit=..., ...). */
  initArgs?: string[];
}

export interface RunOptions extends StartOptions {
  /** The command to run as the container's PID 1 (default: tsnspawn's, the login shell). */
  command?: string[];
  /** Run the command as PID 2 under a stub init (-a). */
  asPid2?: boolean;
}

/** The fd tsnspawn writes its events on: the API gives it a pipe there. */
export const EVENTS_FD = 3;

function common(o: StartOptions): string[] {
  const dir = o.directory ?? o.image;
  // --kill-signal=SIGKILL: a SIGTERM to tsnspawn then kills the guest at once and
  // tsnspawn still cleans up (cgroup, runtime record), which SIGKILL of tsnspawn
  // would not; the graceful ends (poweroff, stop) signal the guest's init instead.
  const a = ['-q', `--events=${EVENTS_FD}`, `--console=${o.console ?? 'pipe'}`, '--kill-signal=SIGKILL'];
  if (dir !== undefined) a.push('-D', dir);
  if (o.tarball !== undefined) a.push(`--tarball=${o.tarball}`);
  if (o.machine !== undefined) a.push('-M', o.machine);
  if (o.ephemeral) a.push('-x');
  for (const b of o.bind ?? []) a.push(`--bind=${b}`);
  for (const b of o.bindReadOnly ?? []) a.push(`--bind-ro=${b}`);
  for (const [k, v] of Object.entries(o.env ?? {})) a.push(`--setenv=${k}=${v}`);
  if (o.privateNetwork) a.push('--private-network');
  if (o.register !== undefined) a.push(`--register=${o.register}`);
  a.push(...(o.extraArgs ?? []));
  return a;
}

/** Readiness for a boot is the guest's own READY=1 (systemd sends it when startup is done). */
export function bootArgs(o: BootOptions): string[] {
  if (o.directory === undefined && o.image === undefined && o.tarball === undefined && o.machine === undefined)
    throw new TypeError('boot(): give directory (or image), tarball or machine');
  return [...common(o), '--notify-ready=yes', '-b', ...(o.initArgs ?? [])];
}

/** A plain command is ready when it starts. */
export function runArgs(o: RunOptions): string[] {
  if (o.directory === undefined && o.image === undefined && o.tarball === undefined && o.machine === undefined)
    throw new TypeError('run(): give directory (or image), tarball or machine');
  return [...common(o), ...(o.asPid2 ? ['-a'] : []), ...(o.command?.length ? ['--', ...o.command] : [])];
}
