// Reads the DICOM files of results into the slices the viewer shows, and gathers them into series
// (series.ts) whichever results they came in. A file is fetched and parsed once per page, however
// many viewports or thumbnails show it.
import { readDicom } from '../../../protocol/dicom/index.ts'
import type { DicomImage } from '../../../protocol/dicom/index.ts'
import type { Frame } from './image-math.ts'
import { groupSeries, slicePosition } from './series.ts'
import type { SliceKey } from './series.ts'

/** A DICOM file to show, and the result (and so task) it belongs to when known. */
export interface ViewerFile {
  name: string
  sha256: string
  resultId?: string
  taskId?: string
}

/** One displayed slice: a frame of a DICOM instance. */
export interface ViewerSlice extends SliceKey {
  image: DicomImage
  file: ViewerFile
  bytes: ArrayBuffer
  studyInstanceUid: string
}

export interface ViewerSeries {
  uid: string
  studyInstanceUid: string
  /** the task whose results hold the series, when it came from the lab */
  taskId?: string
  slices: ViewerSlice[]
}

const parsed = new Map<string, Promise<{ image: DicomImage, bytes: ArrayBuffer }>>()

/** The file's bytes and image, fetched and parsed once per page (a failure is tried again next time). */
export async function readViewerFile (file: ViewerFile, fetchBlob: (sha256: string) => Promise<ArrayBuffer>): Promise<{ image: DicomImage, bytes: ArrayBuffer }> {
  let entry = parsed.get(file.sha256)
  if (entry === undefined) {
    entry = fetchBlob(file.sha256).then((bytes) => ({ image: readDicom(bytes), bytes }))
    parsed.set(file.sha256, entry)
    entry.catch(() => { parsed.delete(file.sha256) })
  }
  return await entry
}

function uidText (value: unknown): string {
  const first = Array.isArray(value) ? value[0] : value
  return typeof first === 'string' ? first.trim() : ''
}

/** The slices of one file: one per frame. A file without UIDs is a series (and instance) of its own. */
export function slicesOfFile (file: ViewerFile, image: DicomImage, bytes: ArrayBuffer): ViewerSlice[] {
  const ds = image.dataset
  const sop = uidText(ds.SOPInstanceUID) || `file:${file.sha256}`
  const series = uidText(ds.SeriesInstanceUID) || `file:${file.sha256}`
  const position = slicePosition(image.imagePositionPatient, image.imageOrientationPatient, image.sliceLocation)
  const slices: ViewerSlice[] = []
  for (let f = 0; f < image.frames; f++) {
    slices.push({
      seriesInstanceUid: series,
      sopInstanceUid: sop,
      studyInstanceUid: uidText(ds.StudyInstanceUID),
      ...(image.instanceNumber !== undefined ? { instanceNumber: image.instanceNumber } : {}),
      ...(position !== undefined ? { position } : {}),
      frameIndex: f,
      image,
      file,
      bytes
    })
  }
  return slices
}

/** Series of the slices, in the order of their first slice; each takes the task of its first file that has one. */
export function seriesOf (slices: readonly ViewerSlice[]): ViewerSeries[] {
  return [...groupSeries(slices)].map(([uid, group]) => {
    const taskId = group.find((s) => s.file.taskId !== undefined)?.file.taskId
    return { uid, studyInstanceUid: group[0].studyInstanceUid, ...(taskId !== undefined ? { taskId } : {}), slices: group }
  })
}

/** The pixels of a slice as the arithmetic of image-math.ts takes them. */
export function frameOf (slice: Pick<ViewerSlice, 'image' | 'frameIndex'>): Frame {
  const { image, frameIndex } = slice
  return { pixels: image.pixels, offset: frameIndex * image.rows * image.columns, rows: image.rows, columns: image.columns, slope: image.rescaleSlope, intercept: image.rescaleIntercept }
}

/** The first value of a DICOM attribute as text (person names without their ^). */
export function dicomText (value: unknown): string {
  const first = Array.isArray(value) ? value[0] : value
  if (first === null || first === undefined) return ''
  if (typeof first === 'object') return String((first as { Alphabetic?: string }).Alphabetic ?? '').replace(/\^/g, ' ').trim()
  return String(first)
}

/** A DICOM date (YYYYMMDD) as YYYY-MM-DD, or ''. */
export function dicomDate (value: unknown): string {
  const m = /^(\d{4})(\d{2})(\d{2})/.exec(dicomText(value))
  return m === null ? '' : `${m[1]}-${m[2]}-${m[3]}`
}
