// Elapsed and remaining time of a running scan, between the scanner's progress reports.
//
// The scanner reports where it is in its sequence (positionS) and how long the sequence plays
// (durationS) a few times a second while readouts arrive, but a long-TR sequence can go seconds
// between readouts. The clock here moves the last reported position on with this page's own clock, so
// the remaining time counts down every second, and takes each new report as the truth. Only local
// time differences are used: the scanner's clock and this tablet's need not agree.

/** How far past its last report a position is moved on: a scanner that went silent is not shown finishing. */
const MAX_EXTRAPOLATION_S = 10

export class ProgressClock {
  private readonly anchors = new Map<string, { reportedS: number, at: number }>()
  private readonly now: () => number

  /** `now` in milliseconds, monotonic (performance.now() by default). */
  constructor (now: () => number = () => performance.now()) {
    this.now = now
  }

  /** The sequence time reached now, for a task whose latest report said `reportedS`. */
  position (taskId: string, reportedS: number): number {
    const at = this.now()
    const anchor = this.anchors.get(taskId)
    if (anchor === undefined || anchor.reportedS !== reportedS) {
      this.anchors.set(taskId, { reportedS, at })
      return reportedS
    }
    return reportedS + Math.min(MAX_EXTRAPOLATION_S, Math.max(0, (at - anchor.at) / 1000))
  }

  /** Forgets the tasks that no longer run, so that a later run starts from its first report. */
  keepOnly (taskIds: ReadonlySet<string>): void {
    for (const id of [...this.anchors.keys()]) if (!taskIds.has(id)) this.anchors.delete(id)
  }
}

export interface ScanTimes {
  /** seconds of the sequence played, never more than its duration */
  elapsedS: number
  durationS: number
  remainingS: number
  /** elapsed over duration, 0 to 1 */
  fraction: number
}

/** Elapsed, remaining and the part done of a sequence of `durationS` seconds at `positionS`. */
export function scanTimes (positionS: number, durationS: number): ScanTimes {
  const duration = Number.isFinite(durationS) && durationS > 0 ? durationS : 0
  const elapsed = Math.min(duration, Math.max(0, Number.isFinite(positionS) ? positionS : 0))
  return { elapsedS: elapsed, durationS: duration, remainingS: duration - elapsed, fraction: duration > 0 ? elapsed / duration : 0 }
}

/** Whole seconds as m:ss (65 → 1:05). */
export function clock (seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

/**
 * "elapsed 0:05 of 0:30 · 0:25 left"; a sequence shorter than ten seconds in tenths of a second
 * ("elapsed 0.3 s of 0.5 s · 0.2 s left"), where m:ss would read 0:00 throughout. Counted in whole
 * steps (seconds or tenths): the elapsed time rounds down and the total to nearest, so the elapsed
 * never shows more than the total, and elapsed plus left is always the total.
 */
export function scanTimesText (times: ScanTimes): string {
  const tenths = times.durationS < 10
  const step = tenths ? 10 : 1
  const total = Math.round(times.durationS * step)
  const elapsed = Math.min(total, Math.floor(times.elapsedS * step + 1e-9))
  const show = (steps: number): string => tenths ? `${(steps / 10).toFixed(1)} s` : clock(steps)
  return `elapsed ${show(elapsed)} of ${show(total)} · ${show(total - elapsed)} left`
}
