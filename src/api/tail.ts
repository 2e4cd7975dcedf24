/**
 * The last bytes of a stream (the console, tsnspawn's stderr): kept for
 * error messages and log waits without growing with a long-running guest.
 */
export class Tail {
  private text = '';

  constructor(private readonly limit = 64 * 1024) {}

  push(chunk: string): void {
    this.text += chunk;
    // Trim at twice the limit, so a stream of small chunks is not copied each time.
    if (this.text.length > 2 * this.limit) this.text = this.text.slice(-this.limit);
  }

  toString(): string {
    return this.text.length > this.limit ? this.text.slice(-this.limit) : this.text;
  }
}
