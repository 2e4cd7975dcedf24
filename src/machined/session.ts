/**
 * One run's relation with machined: whether to register (--register=),
 * the duplicate-name check before anything starts, registration of each
 * boot's leader, RequestStop from systemd when the scope is stopped, and
 * unregistration on every exit path.
 */
import { refuse } from '../util/errors.js';
import { warn } from '../util/log.js';
import type { RegisterMode } from '../settings/model.js';
import { systemBusPresent, type SystemBus } from './bus.js';
import { machineExists, machineScopeName, registerMachine, unitObjectPath, unregisterMachine, type Registration } from './register.js';


export class MachinedSession {
  /** For a failed register(): the call, and what could not be done. */
  readonly registerCall = 'CreateMachine';
  readonly registerFailure = 'cannot register the machine with systemd-machined';
  private registered = false;
  private stopHandler: (() => void) | undefined;

  private constructor(
    private readonly bus: SystemBus,
    private readonly name: string,
    private readonly keepUnit: boolean,
  ) {}

  /**
   * Opens the bus per --register (auto: only when machined is reachable, with
   * one warning otherwise) and refuses a name machined already has.
   * Returns undefined when not registering.
   */
  static async open(mode: RegisterMode, name: string, keepUnit: boolean): Promise<MachinedSession | undefined> {
    if (mode === 'no') return undefined;
    if (mode === 'auto' && !systemBusPresent()) return undefined; // no bus here at all
    let bus: SystemBus;
    try {
      const { connectSystemBus } = await import('./bus.js');
      bus = await connectSystemBus();
      if (mode === 'auto') await bus.call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'GetNameOwner', signature: 's', body: ['org.freedesktop.machine1'] }).catch(async () => {
        // Not running yet is fine if it can be activated; ask it directly.
        await bus.call({ destination: 'org.freedesktop.machine1', path: '/org/freedesktop/machine1', interface: 'org.freedesktop.DBus.Peer', member: 'Ping' });
      });
    } catch (e) {
      const why = (e as Error).message ?? String(e);
      if (mode === 'yes') refuse(`cannot register with systemd-machined: ${why} (start systemd-machined, or use --register=no)`);
      warn(`systemd-machined is not reachable (${why}); running without registration`);
      return undefined;
    }
    const session = new MachinedSession(bus, name, keepUnit);
    if (await machineExists(bus, name).catch(() => false)) {
      bus.close();
      refuse(`a machine named '${name}' is already registered with systemd-machined; stop it first or use another -M name`);
    }
    return session;
  }

  /** Calls handler when systemd asks us to stop the machine's scope (machinectl terminate). */
  async onStopRequest(handler: () => void): Promise<void> {
    // Each boot brings its own handler; the bus subscription is made once,
    // else every reboot would add a listener and one request act twice.
    const subscribed = this.stopHandler !== undefined;
    this.stopHandler = handler;
    if (this.keepUnit || subscribed) return; // with --keep-unit the service manager signals us directly
    await this.bus.onSignal(
      { interface: 'org.freedesktop.systemd1.Scope', member: 'RequestStop', path: unitObjectPath(machineScopeName(this.name)), sender: 'org.freedesktop.systemd1' },
      () => this.stopHandler?.(),
    );
  }

  async register(r: Omit<Registration, 'name' | 'keepUnit'>): Promise<void> {
    await registerMachine(this.bus, { ...r, name: this.name, keepUnit: this.keepUnit });
    this.registered = true;
  }

  /** Registered through CreateMachine: init now sits in machine-NAME.scope. */
  get ownsScope(): boolean {
    return this.registered && !this.keepUnit;
  }

  async unregister(): Promise<void> {
    if (!this.registered) return;
    this.registered = false;
    await unregisterMachine(this.bus, this.name);
  }

  close(): void {
    this.bus.close();
  }
}
