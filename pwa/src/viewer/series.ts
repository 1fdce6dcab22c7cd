// A series is the stack of images that share a SeriesInstanceUID, whichever results hold them:
// labs written before a reconstruction kept its slices together recorded one result per slice, so the
// viewer groups the files it reads and never trusts the result boundaries. Slices are ordered by
// InstanceNumber, then by position along the slice normal, then by frame.

export type Vec3 = [number, number, number]

/** What ordering needs to know of one displayed slice (a frame of a DICOM instance). */
export interface SliceKey {
  seriesInstanceUid: string
  sopInstanceUid: string
  instanceNumber?: number
  /** mm along the slice normal (or the SliceLocation), when the file says */
  position?: number
  frameIndex: number
}

/**
 * Where a slice lies along its normal: ImagePositionPatient projected on row × column direction;
 * without orientation the SliceLocation, else undefined.
 */
export function slicePosition (ipp: Vec3 | undefined, iop: [number, number, number, number, number, number] | undefined, sliceLocation?: number): number | undefined {
  if (ipp !== undefined && iop !== undefined) {
    const normal: Vec3 = [
      iop[1] * iop[5] - iop[2] * iop[4],
      iop[2] * iop[3] - iop[0] * iop[5],
      iop[0] * iop[4] - iop[1] * iop[3]
    ]
    return ipp[0] * normal[0] + ipp[1] * normal[1] + ipp[2] * normal[2]
  }
  return sliceLocation
}

function compareOptional (a: number | undefined, b: number | undefined): number {
  if (a === b) return 0
  if (a === undefined) return 1
  if (b === undefined) return -1
  return a - b
}

/** The slices in viewing order (a new array). */
export function sortSlices<T extends SliceKey> (slices: readonly T[]): T[] {
  return [...slices].sort((a, b) =>
    compareOptional(a.instanceNumber, b.instanceNumber) ||
    compareOptional(a.position, b.position) ||
    a.sopInstanceUid.localeCompare(b.sopInstanceUid) ||
    a.frameIndex - b.frameIndex)
}

/**
 * The slices grouped by SeriesInstanceUID, each group sorted, groups in the order their first
 * slice was given. The same instance given twice (a file kept in two results) is shown once.
 */
export function groupSeries<T extends SliceKey> (slices: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  const seen = new Set<string>()
  for (const slice of slices) {
    const id = `${slice.sopInstanceUid}#${slice.frameIndex}`
    if (seen.has(id)) continue
    seen.add(id)
    const group = groups.get(slice.seriesInstanceUid) ?? []
    group.push(slice)
    groups.set(slice.seriesInstanceUid, group)
  }
  for (const [uid, group] of groups) groups.set(uid, sortSlices(group))
  return groups
}

/** The index a stack shows after its slices change: the slice shown before, wherever it now sits. */
export function keepSlice (before: SliceKey | undefined, after: readonly SliceKey[], fallback: number): number {
  if (before !== undefined) {
    const found = after.findIndex((s) => s.sopInstanceUid === before.sopInstanceUid && s.frameIndex === before.frameIndex)
    if (found >= 0) return found
  }
  return Math.max(0, Math.min(after.length - 1, fallback))
}
