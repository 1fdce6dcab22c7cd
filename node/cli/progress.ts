// A progress bar for long CLI work, on stderr so that stdout stays clean for data. On a terminal it
// redraws one line; elsewhere (CI, pipes) it prints a line every 10 %.
export class ProgressBar {
  private readonly label: string
  private readonly total: number
  private readonly stream: NodeJS.WriteStream
  private readonly started = Date.now()
  private lastDecile = -1
  private lastDraw = 0

  constructor (label: string, total: number, stream: NodeJS.WriteStream = process.stderr) {
    this.label = label
    this.total = Math.max(1, total)
    this.stream = stream
  }

  update (done: number, note = ''): void {
    const fraction = Math.min(1, done / this.total)
    const elapsed = (Date.now() - this.started) / 1000
    const remaining = fraction > 0 ? elapsed * (1 - fraction) / fraction : NaN
    const eta = Number.isFinite(remaining) ? ` ${formatSeconds(remaining)} left` : ''
    if (this.stream.isTTY === true) {
      const now = Date.now()
      if (now - this.lastDraw < 100 && done < this.total) return
      this.lastDraw = now
      const width = 30
      const filled = Math.round(fraction * width)
      this.stream.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${done}/${this.total}${eta} ${note}\x1b[K`)
    } else {
      const decile = Math.floor(fraction * 10)
      if (decile === this.lastDecile) return
      this.lastDecile = decile
      this.stream.write(`${this.label}: ${(fraction * 100).toFixed(0)}% (${done}/${this.total})${eta} ${note}\n`)
    }
  }

  done (message: string): void {
    if (this.stream.isTTY === true) this.stream.write('\r\x1b[K')
    this.stream.write(`${this.label}: ${message} in ${formatSeconds((Date.now() - this.started) / 1000)}\n`)
  }
}

export function formatSeconds (s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`
  const m = Math.floor(s / 60)
  return `${m} min ${Math.round(s - 60 * m)} s`
}
