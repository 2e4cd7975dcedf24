/**
 * A probe for booted systemd guests, without touching the image: a unit
 * bound into the guest's /run/systemd/system (our tmpfs) and pulled in with
 * systemd.wants= on init's command line. It records facts into a host
 * directory bound at /run/probe, then reboots once or powers off.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';

/** slowStop: the probe holds up the guest's shutdown for a minute. */
const unit = (slowStop: boolean): string => `[Unit]
Description=tsnspawn test probe
After=multi-user.target

[Service]
Type=exec
ExecStart=/bin/sh /run/probe/probe.sh
${slowStop ? 'ExecStop=/bin/sleep 60\n' : ''}`;

/** boots=2 makes the first boot reboot; the last boot powers off (unless action=stay). */
function script(boots: number, action: 'poweroff' | 'stay', kmsg: boolean): string {
  return `#!/bin/sh
cd /run/probe
date +%s.%N > started.$(cat /proc/sys/kernel/random/boot_id)
state=$(systemctl is-system-running --wait)
n=$(($(cat count 2>/dev/null || echo 0) + 1)); echo $n > count
{
  echo "state=$state"
  echo "virt=$(systemd-detect-virt -c)"
  echo "boot_id=$(cat /proc/sys/kernel/random/boot_id)"
  echo "machine_id=$(cat /etc/machine-id)"
  echo "failed=$(systemctl list-units --failed --plain --no-legend | awk '{print $1}' | sort | tr '\\n' ' ')"
  echo "cgroup=$(cat /proc/self/cgroup | tr '\\n' ' ')"
  ${kmsg ? 'echo "kmsg=$(timeout 1 head -c 10 /proc/kmsg 2>/dev/null | wc -c)"' : ''}
  echo "cgroupfs=$(stat -f -c %T /sys/fs/cgroup)"
} > boot.$n
if [ $n -lt ${boots} ]; then systemctl reboot; ${action === 'poweroff' ? 'else systemctl poweroff;' : 'else touch settled;'} fi
`;
}

export class BootProbe {
  readonly dir: string;

  /** kmsg: also record what /proc/kmsg yields (systemd-nspawn's FIFO makes that take a second). */
  constructor(opts: { boots?: number; action?: 'poweroff' | 'stay'; slowStop?: boolean; parent?: string; kmsg?: boolean } = {}) {
    this.dir = mkdtempSync(`${opts.parent ?? '/var/tmp'}/tsnspawn-probe-`);
    writeFileSync(`${this.dir}/probe.sh`, script(opts.boots ?? 1, opts.action ?? 'poweroff', opts.kmsg ?? false));
    writeFileSync(`${this.dir}/tsnspawn-probe.service`, unit(opts.slowStop ?? false));
  }

  /** tsnspawn options that install the probe. */
  args(): string[] {
    return [
      `--bind=${this.dir}:/run/probe`,
      `--bind-ro=${this.dir}/tsnspawn-probe.service:/run/systemd/system/tsnspawn-probe.service`,
    ];
  }

  /** Arguments for init after the options. */
  initArgs(): string[] {
    return ['systemd.wants=tsnspawn-probe.service'];
  }

  boot(n: number): Record<string, string> | undefined {
    const f = `${this.dir}/boot.${n}`;
    if (!existsSync(f)) return undefined;
    return Object.fromEntries(
      readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]),
    );
  }

  settled(): boolean {
    return existsSync(`${this.dir}/settled`);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
