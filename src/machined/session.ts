/**
 * One run's relation with machined: whether to register (--register=),
 * the duplicate-name check before anything starts, registration of each
 * boot's leader, and unregistration while Node still holds the container.
 * systemd's RequestStop for the scope goes to the helper (the scope's
 * controller, native/bus.c), not to Node, which may be long gone.
 */
import { refuse } from '../util/errors.js';
import { warn } from '../util/log.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RegisterMode } from '../settings/model.js';
import type { HelperBus } from '../plan/types.js';
import { systemBusPresent, type SystemBus } from './bus.js';
import { machineExists, machineScopeName, registerMachine, unitObjectPath, unregisterMachine, type Registration } from './register.js';


/** Up to 2 s for the last boot's machine to go, in steps. */
const GONE_WAIT_STEPS = 40;
const GONE_WAIT_MS = 50;

export class MachinedSession {
  /** For a failed register(): the call, and what could not be done. */
  readonly registerCall = 'CreateMachine';
  readonly registerFailure = 'cannot register the machine with systemd-machined';
  private registered = false;
  /** After a guest reboot the last boot's machine and scope may still be on their way out. */
  private registeredBefore = false;

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
  static async open(mode: RegisterMode, name: string, keepUnit: boolean, resumed = false): Promise<MachinedSession | undefined> {
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
    session.registeredBefore = resumed;
    // Our own machine of the boot before a reboot goes when its scope empties: give it a moment.
    if (resumed) for (let i = 0; i < GONE_WAIT_STEPS && (await machineExists(bus, name).catch(() => false)); i++) await sleep(GONE_WAIT_MS);
    if (await machineExists(bus, name).catch(() => false)) {
      bus.close();
      refuse(`a machine named '${name}' is already registered with systemd-machined; stop it first or use another -M name`);
    }
    return session;
  }

  /**
   * The helper's part (native/bus.c): the D-Bus controller of the scope
   * machined makes (none with --keep-unit: the service manager signals
   * tsnspawn directly), and UnregisterMachine once init is gone.
   */
  helperBus(socket: string): HelperBus {
    return {
      socket,
      ...(this.keepUnit ? {} : { controlledScope: unitObjectPath(machineScopeName(this.name)) }),
      release: { kind: 'machine', name: this.name },
    };
  }

  async register(r: Omit<Registration, 'name' | 'keepUnit'>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await registerMachine(this.bus, { ...r, name: this.name, keepUnit: this.keepUnit });
        break;
      } catch (e) {
        // machined or systemd may not have let go of the last boot's machine or scope yet.
        if (!this.registeredBefore || attempt >= GONE_WAIT_STEPS || !/already exists|UnitExists|MachineExists/.test(String((e as Error).message ?? e))) throw e;
        await sleep(GONE_WAIT_MS);
      }
    }
    this.registered = true;
    this.registeredBefore = true;
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
