/**
 * --register=no without --keep-unit, under systemd: as systemd-nspawn, ask
 * systemd itself (not machined) for a scope, NAME.scope in machine.slice
 * (or --slice), delegated, holding the container's init; the container's
 * cgroup goes one level below. RequestStop (systemctl stop NAME.scope)
 * goes to the helper, the scope's controller (native/bus.c); after each
 * boot Node still holds, the scope is abandoned, killed and unreferenced
 * (nspawn's terminate_scope), so a reboot can ask for it again. Once the
 * supervisor holds the container, the scope goes when it empties (Node's
 * reference went with Node's bus connection). Without a system bus (a plain
 * shell, a minimal CI box), there is no scope: the cgroup goes below ours.
 */
import { refuse } from '../util/errors.js';
import type { HelperBus } from '../plan/types.js';
import { systemBusPresent, type SystemBus } from './bus.js';
import { scopeProperties, unitObjectPath, type Registration } from './register.js';

const SYSTEMD = { destination: 'org.freedesktop.systemd1', path: '/org/freedesktop/systemd1', interface: 'org.freedesktop.systemd1.Manager' };

export class ScopeSession {
  /** For a failed register(): the call, and what could not be done. */
  readonly registerCall = 'StartTransientUnit';
  readonly registerFailure = 'cannot get a scope for the container from systemd';
  private made = false;
  /** A scope of an earlier boot of this run existed (a reboot asks for the same name again). */
  private madeBefore = false;
  private readonly unit: string;

  /** JobRemoved results by job path: a signal can come before the reply to StartTransientUnit is handled. */
  private readonly jobResults = new Map<string, string>();
  private readonly jobWaiters = new Map<string, (result: string) => void>();

  private constructor(
    private readonly bus: SystemBus,
    private readonly name: string,
  ) {
    // A machine name is a valid unit name prefix as it is (letters, digits, '-', '.').
    this.unit = `${name}.scope`;
  }

  private async watchJobs(): Promise<void> {
    await this.bus.onSignal({ interface: SYSTEMD.interface, member: 'JobRemoved', sender: SYSTEMD.destination }, (body) => {
      const [job, unit, result] = [String(body[1]), String(body[2]), String(body[3])];
      if (unit !== this.unit) return; // the host's other jobs are none of ours
      const waiter = this.jobWaiters.get(job);
      this.jobWaiters.delete(job);
      if (waiter) waiter(result);
      else this.jobResults.set(job, result);
    });
  }

  private jobResult(job: string): Promise<string> {
    const known = this.jobResults.get(job);
    this.jobResults.delete(job);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve) => this.jobWaiters.set(job, resolve));
  }

  /** A session when systemd is there to ask; undefined otherwise (refused if --slice/--property need it). */
  static async open(name: string, needed: boolean, resumed = false): Promise<ScopeSession | undefined> {
    const why = 'there is no system bus to ask systemd for a scope (drop --slice/--property, or run under systemd)';
    if (!systemBusPresent()) return needed ? refuse(`cannot use --slice/--property: ${why}`) : undefined;
    let bus: SystemBus | undefined;
    try {
      const { connectSystemBus } = await import('./bus.js');
      bus = await connectSystemBus();
      await bus.call({ ...SYSTEMD, member: 'Subscribe' }); // job signals come to subscribers
      const session = new ScopeSession(bus, name);
      session.madeBefore = resumed;
      await session.watchJobs();
      return session;
    } catch (e) {
      bus?.close();
      if (needed) refuse(`cannot use --slice/--property: cannot reach systemd (${(e as Error).message})`);
      return undefined;
    }
  }

  /** The helper's part (native/bus.c): the scope's D-Bus controller, and nspawn's terminate_scope once init is gone. */
  helperBus(socket: string): HelperBus {
    return { socket, controlledScope: unitObjectPath(this.unit), release: { kind: 'scope', name: this.unit } };
  }

  /** Starts the scope around the leader and waits for systemd's job to finish. */
  async register(r: Omit<Registration, 'name' | 'keepUnit' | 'id' | 'rootDirectory'>): Promise<void> {
    const v = (sig: string, value: unknown): unknown => this.bus.variant(sig, value);
    // What machined would set itself, then the container's own list (--slice there replaces machine.slice).
    const props: unknown[] = [
      ['Slice', v('s', 'machine.slice')],
      ['Delegate', v('b', true)],
      ['CollectMode', v('s', 'inactive-or-failed')],
      ['AddRef', v('b', true)],
      ['PIDs', v('au', [r.leader])],
      ...scopeProperties(this.bus, { name: this.name, killSignal: r.killSignal, properties: r.properties, controller: r.controller }),
    ];

    const start = (): Promise<unknown[]> => this.bus.call({ ...SYSTEMD, member: 'StartTransientUnit', signature: 'ssa(sv)a(sa(sv))', body: [this.unit, 'fail', props, []] });
    let job: unknown;
    // After a guest reboot the last boot's scope may still be on its way out: a moment's patience.
    for (let attempt = 0; ; attempt++) {
      try {
        [job] = await start();
        break;
      } catch (e) {
        if (!this.madeBefore || attempt >= 40 || !/UnitExists|already exists/.test(String((e as Error).message ?? e))) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const result = await this.jobResult(String(job));
    if (result !== 'done') throw new Error(`systemd could not start ${this.unit} (job ${result})`);
    this.made = true;
    this.madeBefore = true;
  }

  /** Init now sits in NAME.scope: its cgroup goes below. */
  get ownsScope(): boolean {
    return this.made;
  }

  /**
   * After each boot, as nspawn's terminate_scope: abandon the scope, kill
   * what is left in it, drop our reference; systemd then collects it.
   * Failures are ignored: the scope may be gone already.
   */
  async unregister(): Promise<void> {
    if (!this.made) return;
    this.made = false;
    const quietly = (member: string, signature: string, body: unknown[]): Promise<unknown> =>
      this.bus.call({ ...SYSTEMD, member, signature, body }).catch(() => undefined);
    await quietly('AbandonScope', 's', [this.unit]);
    await quietly('KillUnit', 'ssi', [this.unit, 'all', 9]);
    await quietly('UnrefUnit', 's', [this.unit]);
  }

  close(): void {
    this.bus.close();
  }
}
