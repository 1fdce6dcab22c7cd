// The metadata a buffer carries from the readout that stands for it (the one nearest the k-space
// centre): its counters, time stamp and geometry, plus the buffer's own extent. One place for every
// stage that turns readouts into buffers (accumulate, nufft).
import type { AcquisitionHeader } from '../../protocol/mrd/types.ts'
import type { BufferMeta, Triple } from './stage.ts'

export interface BufferExtent {
  /** extent in mm of the array's image space along READ, PHS1, PHS2 */
  fovMm: Triple
  reconMatrix: Triple
  reconFovMm: Triple
  /** which lines were acquired, for k-space buffers */
  sampled?: Uint8Array
}

export function bufferMetaOf (h: AcquisitionHeader, extent: BufferExtent): BufferMeta {
  return {
    slice: h.idx.slice,
    contrast: h.idx.contrast,
    phase: h.idx.phase,
    repetition: h.idx.repetition,
    set: h.idx.set,
    measurementUid: h.measurementUid,
    acquisitionTimeStamp: h.acquisitionTimeStamp,
    position: [...h.position],
    readDir: [...h.readDir],
    phaseDir: [...h.phaseDir],
    sliceDir: [...h.sliceDir],
    patientTablePosition: [...h.patientTablePosition],
    fovMm: [...extent.fovMm],
    reconMatrix: [...extent.reconMatrix],
    reconFovMm: [...extent.reconFovMm],
    scale: 1,
    sampleTimeUs: h.sampleTimeUs,
    ...(extent.sampled !== undefined ? { sampled: extent.sampled } : {})
  }
}
