// From ISMRMRD slice geometry (centre position and read/phase/slice direction cosines, patient
// coordinates in mm) to the DICOM Image Plane module (PS3.3 C.7.6.2).
//
// Convention, as in Gadgetron: image columns run along the readout, so pixel (row j, column i) is
// readout sample i of phase-encoding line j. DICOM's row direction (along a row, column index
// increasing) is therefore readDir, its column direction is phaseDir, and PixelSpacing is
// [phase spacing, readout spacing]. ImagePositionPatient is the centre of the first transmitted
// voxel (row 0, column 0), half a voxel in from the corner of the field of view.

import { DicomWriteError } from './errors.ts'

export type Vec3 = readonly [number, number, number]

export interface SliceGeometry {
  /** Centre of this image's slice (for 3D, of its partition) in patient coordinates, mm. */
  position: Vec3
  readDir: Vec3
  phaseDir: Vec3
  sliceDir: Vec3
  /** Reconstructed field of view [readout, phase, slice] in mm; for 2D the slice entry is the slice thickness. */
  fieldOfViewMm: Vec3
}

export interface ImagePlane {
  imagePositionPatient: [number, number, number]
  imageOrientationPatient: [number, number, number, number, number, number]
  /** [row spacing (between rows, along phaseDir), column spacing (between columns, along readDir)] mm */
  pixelSpacing: [number, number]
  /** Unit normal, row direction × column direction. */
  normal: [number, number, number]
  /** Position of the plane along its normal, mm (dot product of the centre with the normal). */
  sliceLocation: number
}

const TOLERANCE = 1e-3

export function dot (a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

export function cross (a: Vec3, b: Vec3): [number, number, number] {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

function unit (v: Vec3, name: string): [number, number, number] {
  if (!v.every(Number.isFinite)) throw new DicomWriteError(`${name} is not finite: [${v.join(', ')}]`)
  const length = Math.hypot(v[0], v[1], v[2])
  if (Math.abs(length - 1) > TOLERANCE) throw new DicomWriteError(`${name} is not a unit vector (length ${length})`)
  return [v[0] / length, v[1] / length, v[2] / length]
}

/**
 * The DICOM image plane of an image of `columns` readout samples by `rows` phase-encoding lines.
 * Throws DicomWriteError when the directions are not orthonormal or the field of view is not positive.
 */
export function imagePlane (geometry: SliceGeometry, columns: number, rows: number): ImagePlane {
  const read = unit(geometry.readDir, 'readDir')
  const phase = unit(geometry.phaseDir, 'phaseDir')
  const slice = unit(geometry.sliceDir, 'sliceDir')
  if (Math.abs(dot(read, phase)) > TOLERANCE) throw new DicomWriteError('readDir and phaseDir are not orthogonal')
  const normal = cross(read, phase)
  if (Math.abs(Math.abs(dot(normal, slice)) - 1) > TOLERANCE) throw new DicomWriteError('sliceDir is not perpendicular to readDir and phaseDir')
  const [fovRead, fovPhase] = geometry.fieldOfViewMm
  if (!(fovRead > 0 && fovPhase > 0)) throw new DicomWriteError(`field of view must be positive, got [${geometry.fieldOfViewMm.join(', ')}]`)
  if (!geometry.position.every(Number.isFinite)) throw new DicomWriteError(`position is not finite: [${geometry.position.join(', ')}]`)

  const dx = fovRead / columns
  const dy = fovPhase / rows
  // The slice position is where x = 0 lies, and the centred inverse FFT puts x = 0 at pixel ⌊n/2⌋
  // (recon-node/pipeline/image.ts, as ISMRMRD's and BART's centred transforms do): the first pixel is
  // ⌊n/2⌋ pixels before it. For even n that is FOV/2, not the field's corner plus half a pixel.
  const toFirstColumn = Math.floor(columns / 2) * dx
  const toFirstRow = Math.floor(rows / 2) * dy
  const c = geometry.position
  const imagePositionPatient: [number, number, number] = [
    c[0] - toFirstColumn * read[0] - toFirstRow * phase[0],
    c[1] - toFirstColumn * read[1] - toFirstRow * phase[1],
    c[2] - toFirstColumn * read[2] - toFirstRow * phase[2]
  ]
  return {
    imagePositionPatient,
    imageOrientationPatient: [read[0], read[1], read[2], phase[0], phase[1], phase[2]],
    pixelSpacing: [dy, dx],
    normal,
    sliceLocation: dot(c, normal)
  }
}
