/**
 * A one-line progress bar on stderr for long applies. Silent unless the stream is
 * a TTY, so scripts and logs never see carriage returns.
 */

export interface ProgressStream {
  isTTY?: boolean;
  write(chunk: string): unknown;
}

/**
 * A progress bar, redrawn in place at most every 50 ms.
 *
 * @example
 *   const bar = new ProgressBar(process.stderr, 'parsing');
 *   bar.update(10, 100); bar.done('parsed 100 documents');
 */
export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly stream: ProgressStream,
    private label: string,
    private readonly width = 30,
  ) {}

  /** True when the bar will draw at all. */
  get active(): boolean {
    return this.stream.isTTY === true;
  }

  /** Switch to another phase (`parsing` → `uploading`). */
  phase(label: string): void {
    this.label = label;
    this.lastDraw = 0;
  }

  update(done: number, total: number, suffix = ''): void {
    if (!this.active) return;
    const now = Date.now();
    if (done < total && now - this.lastDraw < 50) return;
    this.lastDraw = now;
    this.stream.write('\r\x1b[K' + formatBar(this.label, done, total, this.width) + suffix);
    this.drawn = true;
  }

  /** Clear the bar and optionally leave a final line. */
  done(message?: string): void {
    if (!this.active) return;
    if (this.drawn) this.stream.write('\r\x1b[K');
    if (message !== undefined) this.stream.write(message + '\n');
    this.drawn = false;
  }
}

/**
 * The bar's text.
 *
 * @example
 *   formatBar('uploading', 5, 10, 10) // 'uploading [#####     ]  50%'
 */
export function formatBar(label: string, done: number, total: number, width: number): string {
  const ratio = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const filled = Math.round(ratio * width);
  const pct = String(Math.floor(ratio * 100)).padStart(3);
  return `${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${pct}%`;
}
