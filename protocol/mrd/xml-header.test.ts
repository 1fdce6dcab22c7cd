import { describe, expect, it } from 'vitest'
import type { IsmrmrdHeader } from './xml-header.ts'
import { parseIsmrmrdXml, validateIsmrmrdHeader, writeIsmrmrdXml } from './xml-header.ts'
import { IsmrmrdXmlError } from './errors.ts'

// As ismrmrd_generate_cartesian_shepp_logan (ismrmrd 1.8) writes it: tabs, xsi attributes, version 8.
const GENERATED = `<?xml version="1.0"?>
<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" xsi:schemaLocation="http://www.ismrm.org/ISMRMRD ismrmrd.xsd">
\t<version>8</version>
\t<acquisitionSystemInformation>
\t\t<receiverChannels>2</receiverChannels>
\t\t<institutionName>ISMRM Synthetic Imaging Lab</institutionName>
\t</acquisitionSystemInformation>
\t<experimentalConditions>
\t\t<H1resonanceFrequency_Hz>63500000</H1resonanceFrequency_Hz>
\t</experimentalConditions>
\t<encoding>
\t\t<encodedSpace>
\t\t\t<matrixSize><x>64</x><y>32</y><z>1</z></matrixSize>
\t\t\t<fieldOfView_mm><x>600.000000</x><y>300.000000</y><z>6.000000</z></fieldOfView_mm>
\t\t</encodedSpace>
\t\t<reconSpace>
\t\t\t<matrixSize><x>32</x><y>32</y><z>1</z></matrixSize>
\t\t\t<fieldOfView_mm><x>300.000000</x><y>300.000000</y><z>6.000000</z></fieldOfView_mm>
\t\t</reconSpace>
\t\t<encodingLimits>
\t\t\t<kspace_encoding_step_1><minimum>0</minimum><maximum>31</maximum><center>16</center></kspace_encoding_step_1>
\t\t\t<repetition><minimum>0</minimum><maximum>0</maximum><center>0</center></repetition>
\t\t</encodingLimits>
\t\t<trajectory>cartesian</trajectory>
\t</encoding>
</ismrmrdHeader>
`

// The header of the OSI2 ONE fixture (recon-node tests read the real file): B0 and f0 written 1e6 too large.
const OSI2ONE = `<?xml version="1.0" encoding="utf-8"?>
<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">
 <measurementInformation>
  <measurementID>2025-08-05-111528-tse_3d</measurementID>
  <seriesDate>2025-08-05</seriesDate>
  <seriesTime>11:15:28</seriesTime>
 </measurementInformation>
 <acquisitionSystemInformation>
  <systemVendor>osi2</systemVendor>
  <systemModel>Nexus</systemModel>
  <systemFieldStrength_T>48511.9775</systemFieldStrength_T>
  <receiverChannels>1</receiverChannels>
 </acquisitionSystemInformation>
 <experimentalConditions>
  <H1resonanceFrequency_Hz>2065640000000</H1resonanceFrequency_Hz>
 </experimentalConditions>
 <encoding>
  <encodedSpace>
   <matrixSize><x>100</x><y>100</y><z>10</z></matrixSize>
   <fieldOfView_mm><x>150.0</x><y>150.0</y><z>150.0</z></fieldOfView_mm>
  </encodedSpace>
  <reconSpace>
   <matrixSize><x>100</x><y>100</y><z>10</z></matrixSize>
   <fieldOfView_mm><x>150.0</x><y>150.0</y><z>150.0</z></fieldOfView_mm>
  </reconSpace>
  <encodingLimits>
   <kspace_encoding_step_1><minimum>0</minimum><maximum>99</maximum><center>50</center></kspace_encoding_step_1>
   <kspace_encoding_step_2><minimum>0</minimum><maximum>9</maximum><center>5</center></kspace_encoding_step_2>
  </encodingLimits>
  <trajectory>cartesian</trajectory>
 </encoding>
</ismrmrdHeader>
`

/** A header with every field of the subset filled in. */
function fullHeader (): IsmrmrdHeader {
  return {
    version: 2,
    subjectInformation: { patientName: 'Doe^Jane <test> & co', patientWeight_kg: 61.5, patientHeight_m: 1.68, patientID: 'P-001', patientBirthdate: '1980-02-29', patientGender: 'F' },
    studyInformation: { studyDate: '2025-01-02', studyTime: '10:11:12', studyID: 'S1', accessionNumber: 12345, referringPhysicianName: 'Dr Who', studyDescription: 'knee', studyInstanceUID: '1.2.3', bodyPartExamined: 'KNEE' },
    measurementInformation: { measurementID: 'm1', seriesDate: '2025-01-02', seriesTime: '10:11:12', patientPosition: 'HFS', relativeTablePosition: { x: 0, y: -1.5, z: 20 }, initialSeriesNumber: 3, protocolName: 'gre', sequenceName: 'gre2d', seriesDescription: 'GRE 2D', seriesInstanceUIDRoot: '1.2.3.4', frameOfReferenceUID: '1.2.3.5' },
    acquisitionSystemInformation: {
      systemVendor: 'OSI2', systemModel: 'ONE', systemFieldStrength_T: 0.0475, relativeReceiverNoiseBandwidth: 0.793, receiverChannels: 2,
      coilLabel: [{ coilNumber: 0, coilName: 'RX0' }, { coilNumber: 1, coilName: 'RX1' }], institutionName: 'Lab', stationName: 'console', deviceID: 'dev', deviceSerialNumber: '42'
    },
    experimentalConditions: { H1resonanceFrequency_Hz: 2022430 },
    encoding: [{
      encodedSpace: { matrixSize: { x: 128, y: 64, z: 1 }, fieldOfView_mm: { x: 256, y: 128, z: 5 } },
      reconSpace: { matrixSize: { x: 64, y: 64, z: 1 }, fieldOfView_mm: { x: 128, y: 128, z: 5 } },
      encodingLimits: {
        kspace_encoding_step_1: { minimum: 0, maximum: 63, center: 32 },
        kspace_encoding_step_2: { minimum: 0, maximum: 0, center: 0 },
        slice: { minimum: 0, maximum: 2, center: 1 },
        repetition: { minimum: 0, maximum: 4, center: 0 },
        user_7: { minimum: 1, maximum: 2, center: 1 }
      },
      trajectory: 'cartesian',
      parallelImaging: { accelerationFactor: { kspace_encoding_step_1: 2, kspace_encoding_step_2: 1 }, calibrationMode: 'embedded', interleavingDimension: 'phase' },
      echoTrainLength: 8
    }, {
      encodedSpace: { matrixSize: { x: 32, y: 32, z: 1 }, fieldOfView_mm: { x: 256, y: 256, z: 5 } },
      reconSpace: { matrixSize: { x: 32, y: 32, z: 1 }, fieldOfView_mm: { x: 256, y: 256, z: 5 } },
      encodingLimits: {},
      trajectory: 'radial'
    }],
    sequenceParameters: { TR: [500, 600], TE: [10.5], TI: [1e-7], flipAngle_deg: [90, 180], sequence_type: 'TurboSpinEcho', echo_spacing: [5] },
    userParameters: {
      userParameterLong: [{ name: 'n', value: -3 }],
      userParameterDouble: [{ name: 'pi', value: 3.14159 }, { name: 'inf', value: Infinity }],
      userParameterString: [{ name: 's', value: 'a < b' }],
      userParameterBase64: [{ name: 'b', value: 'AAEC' }]
    }
  }
}

describe('ISMRMRD XML header', () => {
  it('parses the header ismrmrd_generate_cartesian_shepp_logan writes', () => {
    const h = parseIsmrmrdXml(GENERATED)
    expect(h.version).toBe(8)
    expect(h.acquisitionSystemInformation).toEqual({ receiverChannels: 2, institutionName: 'ISMRM Synthetic Imaging Lab' })
    expect(h.experimentalConditions.H1resonanceFrequency_Hz).toBe(63500000)
    expect(h.encoding).toHaveLength(1)
    expect(h.encoding[0].encodedSpace).toEqual({ matrixSize: { x: 64, y: 32, z: 1 }, fieldOfView_mm: { x: 600, y: 300, z: 6 } })
    expect(h.encoding[0].reconSpace.matrixSize).toEqual({ x: 32, y: 32, z: 1 })
    expect(h.encoding[0].encodingLimits).toEqual({
      kspace_encoding_step_1: { minimum: 0, maximum: 31, center: 16 },
      repetition: { minimum: 0, maximum: 0, center: 0 }
    })
    expect(h.encoding[0].trajectory).toBe('cartesian')
    expect(validateIsmrmrdHeader(h)).toEqual([])
  })

  it('parses the OSI2 ONE header and warns about its field strength and frequency, naming the likely unit', () => {
    const h = parseIsmrmrdXml(OSI2ONE)
    expect(h.acquisitionSystemInformation?.systemFieldStrength_T).toBe(48511.9775)
    expect(h.experimentalConditions.H1resonanceFrequency_Hz).toBe(2065640000000)
    expect(h.encoding[0].encodedSpace.matrixSize).toEqual({ x: 100, y: 100, z: 10 })
    const warnings = validateIsmrmrdHeader(h)
    const paths = warnings.map((w) => w.path)
    expect(paths).toContain('acquisitionSystemInformation/systemFieldStrength_T')
    expect(paths).toContain('experimentalConditions/H1resonanceFrequency_Hz')
    expect(paths).toContain('measurementInformation/patientPosition')
    const b0 = warnings.find((w) => w.path.endsWith('systemFieldStrength_T'))
    expect(b0?.message).toMatch(/µT: 0\.0485/)
    const f0 = warnings.find((w) => w.path.endsWith('H1resonanceFrequency_Hz'))
    expect(f0?.message).toMatch(/µHz: 2065640 Hz/)
  })

  it('round-trips every field of the subset through write and parse', () => {
    const h = fullHeader()
    const xml = writeIsmrmrdXml(h)
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">')).toBe(true)
    expect(xml).toContain('Doe^Jane &lt;test&gt; &amp; co')
    expect(xml).toContain('<value>INF</value>')
    expect(parseIsmrmrdXml(xml)).toEqual(h)
    expect(validateIsmrmrdHeader(h)).toEqual([])
  })

  it('writes elements in schema order', () => {
    const xml = writeIsmrmrdXml(fullHeader())
    const order = ['<version>', '<subjectInformation>', '<studyInformation>', '<measurementInformation>', '<acquisitionSystemInformation>', '<experimentalConditions>', '<encoding>', '<sequenceParameters>', '<userParameters>']
    const positions = order.map((tag) => xml.indexOf(tag))
    expect(positions.every((p) => p >= 0)).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
    // Inside sequenceParameters: TR before TE before TI before flipAngle_deg before sequence_type.
    const seq = ['<TR>', '<TE>', '<TI>', '<flipAngle_deg>', '<sequence_type>', '<echo_spacing>'].map((t) => xml.indexOf(t))
    expect([...seq].sort((a, b) => a - b)).toEqual(seq)
  })

  it('re-reads its own output of the generated header identically', () => {
    const h = parseIsmrmrdXml(GENERATED)
    expect(parseIsmrmrdXml(writeIsmrmrdXml(h))).toEqual(h)
  })

  it('rounds the Larmor frequency to whole hertz and refuses fractional integers', () => {
    const h = fullHeader()
    h.experimentalConditions.H1resonanceFrequency_Hz = 0.0475 * 42.577478e6
    expect(writeIsmrmrdXml(h)).toContain('<H1resonanceFrequency_Hz>2022430</H1resonanceFrequency_Hz>')
    h.encoding[0].encodedSpace.matrixSize.x = 64.5
    expect(() => writeIsmrmrdXml(h)).toThrow(IsmrmrdXmlError)
    expect(() => writeIsmrmrdXml({ ...fullHeader(), encoding: [] })).toThrow(/without an encoding/)
  })

  it('refuses text that is not an ISMRMRD header, with a clear message', () => {
    expect(() => parseIsmrmrdXml('<html/>')).toThrow(/root element is <html>/)
    expect(() => parseIsmrmrdXml('not xml')).toThrow(IsmrmrdXmlError)
    expect(() => parseIsmrmrdXml('<ismrmrdHeader><encoding/></ismrmrdHeader>')).toThrow(/experimentalConditions is required/)
    expect(() => parseIsmrmrdXml(OSI2ONE.replace(/<encoding>[\s\S]*<\/encoding>/, ''))).toThrow(/at least one ismrmrdHeader\/encoding/)
    expect(() => parseIsmrmrdXml(OSI2ONE.replace('<trajectory>cartesian</trajectory>', ''))).toThrow(/encoding\[0\]\/trajectory is required/)
    expect(() => parseIsmrmrdXml(OSI2ONE.replace('<x>100</x>', '<x>many</x>'))).toThrow(/encoding\[0\]\/encodedSpace\/matrixSize\/x = 'many' is not a number/)
    expect(() => parseIsmrmrdXml(OSI2ONE.replace('<x>100</x>', '<x>10.5</x>'))).toThrow(/is not an integer/)
  })

  it('ignores elements outside the subset and namespace prefixes', () => {
    const xml = GENERATED
      .replace('<version>8</version>', '<version>8</version><unknownThing><deep>1</deep></unknownThing>')
      .replace(/<(\/?)encoding>/g, '<$1mrd:encoding>')
    const h = parseIsmrmrdXml(xml)
    expect(h.encoding[0].encodedSpace.matrixSize.x).toBe(64)
  })

  it('warns about impossible values without throwing', () => {
    const h = fullHeader()
    h.acquisitionSystemInformation!.systemFieldStrength_T = 3
    h.experimentalConditions.H1resonanceFrequency_Hz = 63.87e6 // a 1.5 T frequency
    h.acquisitionSystemInformation!.receiverChannels = 0
    h.encoding[0].encodedSpace.matrixSize.y = 0
    h.encoding[0].reconSpace.fieldOfView_mm.z = -1
    h.encoding[0].encodingLimits.slice = { minimum: 3, maximum: 1, center: 2 }
    h.encoding[0].encodingLimits.repetition = { minimum: 0, maximum: 4, center: 9 }
    h.encoding[1].trajectory = 'zigzag'
    h.sequenceParameters!.TE = [-1]
    const paths = validateIsmrmrdHeader(h).map((w) => w.path)
    expect(paths).toEqual([
      'experimentalConditions/H1resonanceFrequency_Hz',
      'acquisitionSystemInformation/receiverChannels',
      'encoding[0]/encodedSpace/matrixSize/y',
      'encoding[0]/reconSpace/fieldOfView_mm/z',
      'encoding[0]/encodingLimits/slice',
      'encoding[0]/encodingLimits/repetition',
      'encoding[1]/trajectory',
      'sequenceParameters/TE[0]'
    ])
  })

  it('accepts a nominal field strength next to the true frequency (3 T, 123.2 MHz)', () => {
    const h = fullHeader()
    h.acquisitionSystemInformation!.systemFieldStrength_T = 3
    h.experimentalConditions.H1resonanceFrequency_Hz = 123_200_000
    expect(validateIsmrmrdHeader(h)).toEqual([])
  })
})
