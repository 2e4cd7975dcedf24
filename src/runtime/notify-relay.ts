/**
 * sd_notify towards our own service manager (tsnspawn as a Type=notify
 * unit), as systemd-nspawn does it: "Container running." with the leader's
 * pid once the payload runs; READY=1 then (or, with --notify-ready=yes,
 * when the guest's init says READY=1); the guest's STATUS= prefixed;
 * STOPPING=1 at the end. Datagrams go out through the helper.
 */

export interface NotifySink {
  send(message: string): void;
}

export class NotifyRelay {
  private ready = false;

  constructor(
    private readonly sink: NotifySink,
    private readonly waitForGuest: boolean,
  ) {}

  static enabled(): boolean {
    return Boolean(process.env.NOTIFY_SOCKET);
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
