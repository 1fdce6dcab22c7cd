import { describe, expect, it } from 'vitest'
import type { DicomImage } from '../../../protocol/dicom/index.ts'
import { dicomDate, dicomText, seriesOf, slicesOfFile } from './series-loader.ts'

/** The fields of a read DICOM image that grouping looks at. */
function image (dataset: Record<string, unknown>, fields: Partial<DicomImage> = {}): DicomImage {
  return { dataset, frames: 1, rows: 2, columns: 2, pixels: new Int16Array(4), rescaleSlope: 1, rescaleIntercept: 0, ...fields } as unknown as DicomImage
}

const bytes = new ArrayBuffer(0)
const axial: [number, number, number, number, number, number] = [1, 0, 0, 0, 1, 0]

describe('series from result files', () => {
  it('puts one-slice results of a reconstruction into one stack, in slice order', () => {
    const files = [3, 1, 2].map((n) => ({ name: `slice-${n}.dcm`, sha256: `sha${n}`, resultId: `r${n}`, taskId: 'recon' }))
    const slices = files.flatMap((file, i) => slicesOfFile(file, image(
      { SeriesInstanceUID: '1.2.9', SOPInstanceUID: `1.2.9.${[3, 1, 2][i]}`, StudyInstanceUID: '1.2' },
      { instanceNumber: [3, 1, 2][i], imagePositionPatient: [0, 0, [3, 1, 2][i] * 5], imageOrientationPatient: axial }), bytes))
    const series = seriesOf(slices)
    expect(series).toHaveLength(1)
    expect(series[0]).toMatchObject({ uid: '1.2.9', studyInstanceUid: '1.2', taskId: 'recon' })
    expect(series[0].slices.map((s) => s.file.name)).toEqual(['slice-1.dcm', 'slice-2.dcm', 'slice-3.dcm'])
    expect(series[0].slices.map((s) => s.position)).toEqual([5, 10, 15])
  })

  it('gives each frame of a multi-frame file a slice, and a file without UIDs a series of its own', () => {
    const multi = slicesOfFile({ name: 'multi.dcm', sha256: 'm' }, image({ SeriesInstanceUID: '7.7', SOPInstanceUID: '7.7.1' }, { frames: 3 }), bytes)
    expect(multi.map((s) => s.frameIndex)).toEqual([0, 1, 2])
    const bare = slicesOfFile({ name: 'bare.dcm', sha256: 'b' }, image({}), bytes)
    const series = seriesOf([...multi, ...bare])
    expect(series.map((s) => s.uid)).toEqual(['7.7', 'file:b'])
    expect(series[1].taskId).toBeUndefined()
  })

  it('reads person names and dates as text', () => {
    expect(dicomText([{ Alphabetic: 'Stack^Stella' }])).toBe('Stack Stella')
    expect(dicomText(undefined)).toBe('')
    expect(dicomDate('20261203')).toBe('2026-12-03')
    expect(dicomDate('')).toBe('')
  })
})
