// When an image's data were acquired, from ISMRMRD's acquisition_time_stamp.
//
// The stamp counts ticks of 2.5 ms. Scanners that write a clock there (Siemens, and Gadgetron's DICOM
// writer reads it so) count from local midnight; others count from their own start (the virtual
// scanner starts each scan at 0). Nothing in the header says which, so a stamp is read as a clock time
// only when that time falls where the series was acquired: from an hour before the series' start to a
// day after it. Otherwise nothing says when tick 0 was, and the image gets no time of its own.

/** Length of one acquisition_time_stamp tick, ms (ISMRMRD, as Siemens and Gadgetron count). */
export const TIME_STAMP_TICK_MS = 2.5

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS

/** The acquisition time a stamp stands for, or undefined when it is not a clock time of this series. */
export function acquisitionDateTime (stamp: number, seriesStart: Date | undefined): Date | undefined {
  if (seriesStart === undefined || Number.isNaN(seriesStart.getTime())) return undefined
  if (!Number.isInteger(stamp) || stamp <= 0) return undefined
  const offsetMs = stamp * TIME_STAMP_TICK_MS
  if (offsetMs >= DAY_MS) return undefined
  const midnight = new Date(seriesStart)
  midnight.setHours(0, 0, 0, 0)
  // setHours keeps local wall-clock time across a change of daylight saving time, as the scanner's clock does
  const time = new Date(midnight)
  time.setMilliseconds(offsetMs)
  const delta = time.getTime() - seriesStart.getTime()
  return delta >= -HOUR_MS && delta < DAY_MS ? time : undefined
}
