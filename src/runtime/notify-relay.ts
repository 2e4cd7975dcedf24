/**
 * sd_notify towards our own service manager (tsnspawn as a Type=notify
 * unit), as systemd-nspawn does it: "Container running." with the leader's
 * pid once the payload runs; READY=1 then (or, with --notify-ready=yes,
 * when the guest's init says READY=1); the guest's STATUS= prefixed;
 * STOPPING=1 at the end; WATCHDOG=1 at half $WATCHDOG_USEC while Node
 * holds the container (the supervisor goes on after the handover).
 * Datagrams go out through the helper.
 */

export interface NotifySink {
  send(message: string): void;
}

export class NotifyRelay {
  private ready = false;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(
    private readonly sink: NotifySink,
    private readonly waitForGuest: boolean,
  ) {}

  static enabled(): boolean {
    return Boolean(process.env.NOTIFY_SOCKET);
  }

  /** Pings the service manager's watchdog, when it watches us, until stop() (or the handover's execve). */
  startWatchdog(): void {
    const usec = Number(process.env.WATCHDOG_USEC);
    const pid = process.env.WATCHDOG_PID;
    if (!(usec > 0) || (pid !== undefined && Number(pid) !== process.pid)) return;
    this.watchdog = setInterval(() => this.sink.send('WATCHDOG=1'), Math.max(1, Math.floor(usec / 2000)));
    this.watchdog.unref();
  }

  stopWatchdog(): void {
    clearInterval(this.watchdog);
  }

  payloadStarted(leaderPid: number): void {
    this.sink.send(`STATUS=Container running.\nX_NSPAWN_LEADER_PID=${leaderPid}`);
    if (!this.waitForGuest) this.markReady();
  }

  /** A datagram from the guest's init on /run/host/notify. */
  fromGuest(message: string): void {
    for (const line of message.split(/[\n\r]/)) {
      if (line === 'READY=1') this.markReady();
      else if (line.startsWith('STATUS=')) this.sink.send(`STATUS=Container running: ${line.slice(7)}`);
    }
  }

  stopping(restarting: boolean): void {
    this.sink.send(`STOPPING=1\nSTATUS=${restarting ? 'Restarting...' : 'Terminating...'}`);
  }

  get readySent(): boolean {
    return this.ready;
  }

  private markReady(): void {
    if (this.ready) return;
    this.ready = true;
    this.sink.send('READY=1');
  }
}
