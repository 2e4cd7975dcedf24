/** Import progress: a bar on a terminal (bytes, rate, ETA), one closing line otherwise. */

function human(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

export class Progress {
  private done = 0;
  private readonly start = Date.now();
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number | undefined,
    private readonly quiet: boolean,
  ) {
    this.tty = !quiet && process.stderr.isTTY === true;
  }

  /** Sets the bytes done so far (e.g. a file offset). */
  set(bytes: number): void {
    this.add(bytes - this.done);
  }

  add(bytes: number): void {
    this.done += bytes;
    const now = Date.now();
    if (this.tty && now - this.lastDraw > 100) {
      this.lastDraw = now;
      this.draw(now);
    }
  }

  private draw(now: number): void {
    const secs = Math.max((now - this.start) / 1000, 0.001);
    const rate = this.done / secs;
    let line = `${this.label}: ${human(this.done)}`;
    if (this.total) {
      const frac = Math.min(this.done / this.total, 1);
      const width = 30;
      const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, ' ');
      const eta = rate > 0 ? Math.max(0, (this.total - this.done) / rate) : 0;
      line += ` / ${human(this.total)} [${bar}] ${(frac * 100).toFixed(0)}% ${human(rate)}/s ETA ${eta.toFixed(0)}s`;
    } else line += ` ${human(rate)}/s`;
    process.stderr.write(`\r${line}\x1b[K`);
  }

  finish(summary: string): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
    if (!this.quiet) process.stderr.write(`${summary} (${human(this.done)} in ${((Date.now() - this.start) / 1000).toFixed(1)} s)\n`);
  }

  /** Clears a drawn bar before an error line. */
  clear(): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
  }
}
