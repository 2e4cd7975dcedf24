/**
 * A "host" for tests that need systemd as PID 1 and a real machined: the
 * debian12-host image booted by Debian's systemd-nspawn (--register=no
 * --keep-unit), with the checkout bound at /opt/tsnspawn and test trees at
 * /var/lib/machines/NAME. Commands run inside as transient services
 * (systemd-run over the guest's bus, entered with nsenter), so tsnspawn
 * inside sits in a real unit's cgroup. With unified: true the host guest
 * gets a pure cgroup v2 world (SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmdirSync, rmSync } from 'node:fs';
import { execa } from 'execa';
import { image } from './images.js';
import { TOP } from './paths.js';

export const CHECKOUT_INSIDE = '/opt/tsnspawn';
export const TSNSPAWN_INSIDE = `${CHECKOUT_INSIDE}/bin/tsnspawn`;

export interface HostOptions {
  unified: boolean;
  /** Test trees to bind at /var/lib/machines/NAME inside. */
  machines: Record<string, string>;
  /**
   * A network namespace of its own (only loopback) with systemd-networkd
   * running (systemd.wants= on init's command line; the image leaves it
   * disabled): the network tests' links, addresses and rules stay in it.
   */
  network?: boolean;
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push(...readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
    } catch {
      /* task gone */
    }
  }
  return out;
}

export class HostMachine {
  /** A directory bound at the same path inside, for files both sides see. */
  readonly share: string;
  private constructor(
    private readonly nspawn: ChildProcess,
    readonly leader: number,
    readonly name: string,
    share: string,
    /** The host tree and the trees bound into it: a bind of the share makes its mount point in them. */
    private readonly trees: string[] = [],
  ) {
    this.share = share;
  }

  static async boot(opts: HostOptions): Promise<HostMachine> {
    const tree = image('debian12-host');
    const share = mkdtempSync('/var/tmp/tsnspawn-hostshare-');
    const name = `tsnspawn-host-${process.pid}`;
    const args = [
      '--register=no', '--keep-unit', '-q', '--console=pipe', '-D', tree, '-M', name,
      `--bind-ro=${TOP}:${CHECKOUT_INSIDE}`, `--bind=${share}`,
      ...Object.entries(opts.machines).map(([n, t]) => `--bind=${t}:/var/lib/machines/${n}`),
      ...(opts.network ? ['--private-network'] : []),
      '-b',
      ...(opts.network ? ['systemd.wants=systemd-networkd.service'] : []),
    ];
    // Unset, nspawn gives a systemd guest on a hybrid host the hybrid layout;
    // "0" would mean legacy (no unified tree at all), "1" pure v2.
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.SYSTEMD_NSPAWN_UNIFIED_HIERARCHY;
    if (opts.unified) env.SYSTEMD_NSPAWN_UNIFIED_HIERARCHY = '1';
    const nspawn = spawn('systemd-nspawn', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    // The guest's init is the nspawn child running systemd.
    let leader = 0;
    for (let i = 0; i < 200 && !leader; i++) {
      await new Promise((r) => setTimeout(r, 50));
      if (nspawn.exitCode !== null) {
        rmSync(share, { recursive: true, force: true });
        throw new Error(`systemd-nspawn of the host image exited ${nspawn.exitCode}`);
      }
      for (const c of childrenOf(nspawn.pid!)) {
        try {
          if (readlinkSync(`/proc/${c}/exe`).endsWith('/systemd')) leader = c;
        } catch {
          /* not yet */
        }
      }
    }
    const host = new HostMachine(nspawn, leader, name, share, [tree, ...Object.values(opts.machines)]);
    if (!leader) {
      await host.shutdown();
      throw new Error('the host image did not start systemd');
    }
    // systemd's private socket appears a moment after it starts.
    let state = { exitCode: -1, stdout: '', stderr: '' };
    for (let i = 0; i < 100; i++) {
      state = await host.sh('systemctl is-system-running --wait', { direct: true });
      if (!/Failed to connect/.test(state.stderr)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!/running|degraded/.test(state.stdout)) {
      await host.shutdown();
      throw new Error(`host image did not boot: ${state.stdout} ${state.stderr}`);
    }
    return host;
  }

  /**
   * Runs a command inside: as a transient service (default) with stdio
   * piped, or directly in the namespaces (direct, for systemctl itself).
   */
  async run(argv: string[], opts: { input?: string; direct?: boolean; env?: Record<string, string>; timeoutMs?: number; unit?: string } = {}) {
    const enter = ['-t', String(this.leader), '-m', '-u', '-i', '-n', '-p'];
    const envArgs = Object.entries(opts.env ?? {}).map(([k, v]) => `--setenv=${k}=${v}`);
    const cmd = opts.direct
      ? ['nsenter', ...enter, '--', ...argv]
      : ['nsenter', ...enter, '--', 'systemd-run', '-q', '--wait', '--pipe', '--collect', '-p', 'Delegate=yes', '--service-type=exec', ...(opts.unit ? [`--unit=${opts.unit}`] : []), ...envArgs, '--', ...argv];
    const r = await execa(cmd[0]!, cmd.slice(1), {
      input: opts.input,
      stdin: opts.input === undefined ? 'ignore' : undefined,
      reject: false,
      stripFinalNewline: false,
      timeout: opts.timeoutMs ?? 120_000,
    });
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  sh(script: string, opts: { direct?: boolean; input?: string; timeoutMs?: number } = {}) {
    return this.run(['/bin/sh', '-c', script], opts);
  }

  async shutdown(): Promise<void> {
    if (this.nspawn.exitCode === null) {
      const exited = new Promise((r) => this.nspawn.once('exit', r));
      this.nspawn.kill('SIGTERM');
      const timer = setTimeout(() => this.nspawn.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.share, { recursive: true, force: true });
    // The (empty) mount points the share's binds left in the shared test trees.
    for (const t of this.trees) {
      try {
        rmdirSync(`${t}${this.share}`);
      } catch {
        /* none there, or not empty: left as it is */
      }
    }
  }
}
