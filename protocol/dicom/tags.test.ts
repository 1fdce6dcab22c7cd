import { describe, expect, it } from 'vitest'
import { readDicom } from './read.ts'
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from './structure.ts'
import { listTags } from './tags.ts'
import type { TagRow } from './tags.ts'
import { buildTestFile } from './test-helpers.ts'

function row (rows: TagRow[], keyword: string): TagRow {
  const found = rows.find((r) => r.keyword === keyword)
  if (found === undefined) throw new Error(`no row ${keyword}`)
  return found
}

const extra = {
  ImageType: ['ORIGINAL', 'PRIMARY', 'OTHER'],
  EchoTime: '4.5',
  AcquisitionMatrix: [0, 100, 80, 0],
  ReferencedImageSequence: [
    { ReferencedSOPClassUID: '1.2.840.10008.5.1.4.1.1.4', ReferencedSOPInstanceUID: '2.25.7' },
    { ReferencedSOPClassUID: '1.2.840.10008.5.1.4.1.1.4', ReferencedSOPInstanceUID: '2.25.8' }
  ]
}

// A private block: absent from the dictionary.
const raw = {
  '00290010': { vr: 'LO', Value: ['SCANHUB TEST'] },
  '00291010': { vr: 'LO', Value: ['private value'] }
}

describe('listTags', () => {
  it.each([EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN])('lists tag, VR, keyword and value of a file in %s, in tag order', (ts) => {
    const pixels = Uint16Array.from({ length: 20 }, (_, i) => i)
    const rows = listTags(readDicom(buildTestFile(ts, { rows: 4, columns: 5, pixels, extra, raw })).dataset)

    expect(row(rows, 'PatientName')).toEqual({ tag: '(0010,0010)', vr: 'PN', keyword: 'PatientName', value: 'Müller^Zoë' })
    expect(row(rows, 'ImageType')).toMatchObject({ tag: '(0008,0008)', vr: 'CS', value: 'ORIGINAL\\PRIMARY\\OTHER' })
    expect(row(rows, 'EchoTime')).toMatchObject({ tag: '(0018,0081)', vr: 'DS', value: '4.5' })
    expect(row(rows, 'Rows')).toMatchObject({ tag: '(0028,0010)', vr: 'US', value: '4' })
    expect(row(rows, 'AcquisitionMatrix')).toMatchObject({ vr: 'US', value: '0\\100\\80\\0' })
    expect(row(rows, 'PixelData')).toMatchObject({ tag: '(7FE0,0010)', vr: 'OW', value: '<binary, 40 bytes>' })

    const sequence = row(rows, 'ReferencedImageSequence')
    expect(sequence).toMatchObject({ tag: '(0008,1140)', vr: 'SQ', value: '2 items' })
    expect(sequence.children?.map((c) => [c.tag, c.keyword, c.value])).toEqual([['(FFFE,E000)', 'Item', '#1'], ['(FFFE,E000)', 'Item', '#2']])
    expect(sequence.children?.[1].children).toEqual([
      { tag: '(0008,1150)', vr: 'UI', keyword: 'ReferencedSOPClassUID', value: '1.2.840.10008.5.1.4.1.1.4' },
      { tag: '(0008,1155)', vr: 'UI', keyword: 'ReferencedSOPInstanceUID', value: '2.25.8' }
    ])

    const priv = rows.find((r) => r.tag === '(0029,1010)')
    // Implicit VR files do not say the VR of a private element, so its bytes stay opaque.
    expect(priv).toEqual(ts === EXPLICIT_VR_LITTLE_ENDIAN
      ? { tag: '(0029,1010)', vr: 'LO', keyword: '', value: 'private value' }
      : { tag: '(0029,1010)', vr: 'UN', keyword: '', value: '<binary, 14 bytes>' })

    const tags = rows.map((r) => r.tag)
    expect(tags).toEqual([...tags].sort())
  })

  it('cuts long value lists and shows empty elements as empty', () => {
    const rows = listTags({ LUTData: Array.from({ length: 100 }, (_, i) => i), ReferringPhysicianName: null, _vrMap: { LUTData: 'US' } }, { maxValues: 3 })
    expect(row(rows, 'LUTData').value).toBe('0\\1\\2\\… (100 values)')
    expect(row(rows, 'ReferringPhysicianName')).toEqual({ tag: '(0008,0090)', vr: 'PN', keyword: 'ReferringPhysicianName', value: '' })
  })

  it('formats attribute tags and person names with several groups', () => {
    const rows = listTags({ FrameIncrementPointer: 0x00181063, PatientName: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' }] })
    expect(row(rows, 'FrameIncrementPointer').value).toBe('(0018,1063)')
    expect(row(rows, 'PatientName').value).toBe('Yamada^Tarou=山田^太郎')
  })
})
