// Every sequence a lab brings, as a user runs it: `scanhub simulate` plays the sequence on the virtual
// scanner, `scanhub recon` reconstructs the MRD stream it wrote (the `default` pipeline picks the chain
// from the header), and each DICOM image is compared with the analytic head phantom at the sequence's
// contrast, seen at the resolution of the reconstructed matrix: the centred inverse DFT of the
// phantom's exact k-space on the Cartesian grid of the image (so Gibbs ringing and partial volume are in
// the reference as in any Cartesian image of that matrix). The normalised error after the best scale
// must be within the tolerance stated for the trajectory; what cannot be reconstructed must be refused
// with a non-zero exit, a message naming what is missing, and no DICOM file.
import { spawnSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readDicom } from '../protocol/dicom/index.ts'
import { BUILTIN_SEQUENCES, parseSeq, writeSeq, type Sequence } from '../protocol/pulseq/index.ts'
import { planSequence, type SequencePlan } from '../scanner-node/acquisition/sequence-plan.ts'
import { virtualScanPhantom } from '../scanner-node/acquisition/virtual-scan.ts'
import { phantomKspace } from '../scanner-node/virtual/index.ts'
import { centredInverseDft } from '../scanner-node/virtual/fft.ts'
import { DEBIAN_PYTHON, fixture, hasFixtures, hasPythonModules } from './support/external-tools.ts'
import { PROJECT_ROOT, SCANHUB_BIN } from './support/peer-process.ts'

let dir: string
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'scanhub-seq-e2e-')) })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

interface Image {
  pixels: Float64Array
  rows: number
  columns: number
  /** position along the slice normal, m */
  sliceM: number
  instance: number
}

function run (args: string[]): { status: number, stderr: string, stdout: string } {
  const r = spawnSync(process.execPath, [SCANHUB_BIN, ...args], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 300_000 })
  return { status: r.status ?? -1, stderr: r.stderr ?? '', stdout: r.stdout ?? '' }
}

/** simulate then recon; the images sorted by position, or the refusal. */
async function scanAndReconstruct (name: string, seqText: string, coils: number): Promise<{ images: Image[], refusal?: string, plan: SequencePlan, folder: string }> {
  const seqFile = join(dir, `${name}.seq`)
  const mrd = join(dir, `${name}.mrd`)
  const out = join(dir, `${name}-dicom`)
  await writeFile(seqFile, seqText)
  let plan: SequencePlan
  try {
    plan = planSequence(parseSeq(seqText))
  } catch (err) {
    // what the scanner's plan refuses, simulate refuses alike (checked below through the command)
    plan = undefined as unknown as SequencePlan
    void err
  }
  const simulated = run(['simulate', '--seq', seqFile, '--coils', String(coils), '--noise', '0', '--out', mrd])
  if (simulated.status !== 0) return { images: [], refusal: `simulate: ${simulated.stderr}`, plan, folder: out }
  const recon = run(['recon', mrd, '--out', out, '--quiet'])
  const files = await readdir(out).catch(() => [] as string[])
  if (recon.status !== 0) {
    expect(files, `${name}: a refused reconstruction leaves no DICOM`).toEqual([])
    return { images: [], refusal: recon.stderr, plan, folder: out }
  }
  const images: Image[] = []
  for (const file of files.filter((f) => f.endsWith('.dcm'))) {
    const dicom = readDicom(await readFile(join(out, file)))
    const ds = dicom.dataset as Record<string, unknown>
    const orientation = (ds.ImageOrientationPatient as number[]).map(Number)
    const normal = [
      orientation[1] * orientation[5] - orientation[2] * orientation[4],
      orientation[2] * orientation[3] - orientation[0] * orientation[5],
      orientation[0] * orientation[4] - orientation[1] * orientation[3]
    ]
    const position = (ds.ImagePositionPatient as number[]).map(Number)
    images.push({
      pixels: Float64Array.from(dicom.pixels),
      rows: dicom.rows,
      columns: dicom.columns,
      sliceM: (position[0] * normal[0] + position[1] * normal[1] + position[2] * normal[2]) / 1000,
      instance: Number(ds.InstanceNumber)
    })
  }
  images.sort((a, b) => a.instance - b.instance)
  return { images, plan, folder: out }
}

/** Centred inverse DFT scaled by 1/n of one line, of any length (the simulator's FFT takes powers of two). */
function inverseDft (re: Float64Array, im: Float64Array): void {
  const n = re.length
  if ((n & (n - 1)) === 0) { centredInverseDft(re, im); return }
  const c = Math.floor(n / 2)
  const outRe = new Float64Array(n)
  const outIm = new Float64Array(n)
  for (let m = 0; m < n; m++) {
    let sr = 0
    let si = 0
    for (let k = 0; k < n; k++) {
      const phase = 2 * Math.PI * (k - c) * (m - c) / n
      const cos = Math.cos(phase)
      const sin = Math.sin(phase)
      sr += re[k] * cos - im[k] * sin
      si += re[k] * sin + im[k] * cos
    }
    outRe[m] = sr / n
    outIm[m] = si / n
  }
  re.set(outRe)
  im.set(outIm)
}

/** What pydicom reads from every DICOM file of a folder: the tags the cases check, as numbers or text. */
function pydicomValues (folder: string): Array<Record<string, number | string | number[] | null>> {
  const script = `
import json, os, sys, pydicom
out = []
for name in sorted(os.listdir(sys.argv[1])):
    ds = pydicom.dcmread(os.path.join(sys.argv[1], name))
    def value(keyword):
        v = ds.get(keyword)
        if v is None or v == '': return None
        if isinstance(v, pydicom.multival.MultiValue): return [float(x) if not isinstance(x, str) else x for x in v]
        try: return float(v)
        except (TypeError, ValueError): return str(v)
    out.append({k: value(k) for k in ['EchoTime', 'SliceThickness', 'SpacingBetweenSlices', 'PixelSpacing', 'MRAcquisitionType', 'ScanningSequence']})
print(json.dumps(out))
`
  const r = spawnSync(DEBIAN_PYTHON, ['-c', script, folder], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`pydicom could not read ${folder}: ${r.stderr}`)
  return JSON.parse(r.stdout) as Array<Record<string, number | string | number[] | null>>
}

/** The phantom's exact k-space on the image's Cartesian grid, transformed back: the ideal image of that matrix. */
function referenceSlice (plan: SequencePlan, columns: number, rows: number, sliceOffsetM: number): Float64Array {
  const phantom = virtualScanPhantom(plan.fovM)
  const n = columns * rows
  const kx = new Float64Array(n)
  const ky = new Float64Array(n)
  const kz = new Float64Array(n)
  const tS = new Float64Array(n).fill(plan.timing.teS)
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x++) {
      kx[x + columns * y] = (x - Math.floor(columns / 2)) / plan.fovM[0]
      ky[x + columns * y] = (y - Math.floor(rows / 2)) / plan.fovM[1]
    }
  }
  const k = phantomKspace(phantom, { kx, ky, kz, tS }, { timing: plan.timing, encoding: 2, sliceOffsetM })
  // inverse DFT along x, then along y
  const rowRe = new Float64Array(columns)
  const rowIm = new Float64Array(columns)
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x++) { rowRe[x] = k.re[x + columns * y]; rowIm[x] = k.im[x + columns * y] }
    inverseDft(rowRe, rowIm)
    for (let x = 0; x < columns; x++) { k.re[x + columns * y] = rowRe[x]; k.im[x + columns * y] = rowIm[x] }
  }
  const colRe = new Float64Array(rows)
  const colIm = new Float64Array(rows)
  for (let x = 0; x < columns; x++) {
    for (let y = 0; y < rows; y++) { colRe[y] = k.re[x + columns * y]; colIm[y] = k.im[x + columns * y] }
    inverseDft(colRe, colIm)
    for (let y = 0; y < rows; y++) { k.re[x + columns * y] = colRe[y]; k.im[x + columns * y] = colIm[y] }
  }
  return Float64Array.from({ length: n }, (_, i) => Math.hypot(k.re[i], k.im[i]))
}

/**
 * The ideal partitions of a 3D encoding: the exact k-space of what the slab excites (FOVz thick at the
 * excitation's offset, as the virtual scanner excites it) on the Cartesian grid, transformed back in 3D.
 * Partition p lies at slabCentre + (p − ⌊nz/2⌋)·FOVz/nz.
 */
function referenceVolume (plan: SequencePlan, columns: number, rows: number): { partitions: Float64Array[], centreM: number } {
  const nz = plan.matrix[2]
  const centreM = plan.readouts.find((r) => r.isNoise !== true)?.sliceOffsetM ?? 0
  const phantom = virtualScanPhantom(plan.fovM)
  const n = columns * rows * nz
  const kx = new Float64Array(n)
  const ky = new Float64Array(n)
  const kz = new Float64Array(n)
  const tS = new Float64Array(n).fill(plan.timing.teS)
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < columns; x++) {
        const i = x + columns * (y + rows * z)
        kx[i] = (x - Math.floor(columns / 2)) / plan.fovM[0]
        ky[i] = (y - Math.floor(rows / 2)) / plan.fovM[1]
        kz[i] = (z - Math.floor(nz / 2)) / plan.fovM[2]
      }
    }
  }
  const slab = { centreM, thicknessM: plan.fovM[2], stepM: plan.fovM[2] / nz }
  const k = phantomKspace(phantom, { kx, ky, kz, tS }, { timing: plan.timing, encoding: 3, slab }, [0, 0, 0])
  // the phantom's k-space is taken about z = 0: its partitions sit where the slab centre's phase puts them
  const along = (length: number, stride: number, count: number, starts: (j: number) => number): void => {
    const re = new Float64Array(length)
    const im = new Float64Array(length)
    for (let j = 0; j < count; j++) {
      const base = starts(j)
      for (let a = 0; a < length; a++) { re[a] = k.re[base + a * stride]; im[a] = k.im[base + a * stride] }
      inverseDft(re, im)
      for (let a = 0; a < length; a++) { k.re[base + a * stride] = re[a]; k.im[base + a * stride] = im[a] }
    }
  }
  along(columns, 1, rows * nz, (j) => j * columns)
  along(rows, columns, columns * nz, (j) => (j % columns) + columns * rows * Math.floor(j / columns))
  along(nz, columns * rows, columns * rows, (j) => j)
  const partitions = Array.from({ length: nz }, (_, z) => Float64Array.from({ length: columns * rows }, (_, i) => Math.hypot(k.re[i + columns * rows * z], k.im[i + columns * rows * z])))
  return { partitions, centreM }
}

/** The ideal image for each reconstructed image: its slice, or its partition of a 3D encoding. */
function referencesFor (plan: SequencePlan, images: Image[]): Float64Array[] {
  if (plan.matrix[2] <= 1) return images.map((image) => referenceSlice(plan, image.columns, image.rows, image.sliceM))
  const { partitions, centreM } = referenceVolume(plan, images[0].columns, images[0].rows)
  const dz = plan.fovM[2] / plan.matrix[2]
  return images.map((image) => partitions[Math.round((image.sliceM - centreM) / dz) + Math.floor(plan.matrix[2] / 2)])
}

/** ‖s·image − reference‖ / ‖reference‖ with the best scale s. */
function nrmse (image: Float64Array, reference: Float64Array): number {
  let ir = 0
  let ii = 0
  let rr = 0
  for (let i = 0; i < image.length; i++) { ir += image[i] * reference[i]; ii += image[i] * image[i]; rr += reference[i] * reference[i] }
  const s = ii > 0 ? ir / ii : 0
  let e = 0
  for (let i = 0; i < image.length; i++) e += (s * image[i] - reference[i]) ** 2
  return Math.sqrt(e / rr)
}

interface Case {
  name: string
  seq: () => Promise<string> | string
  coils?: number
  /** largest NRMSE against the ideal image, for each image of the scan */
  tolerance?: number
  /** the reconstruction must be refused with this message */
  refused?: RegExp
  /** DICOM values pydicom must read from every image (mm, ms) */
  dicom?: { EchoTime?: number, SliceThickness?: number, SpacingBetweenSlices?: number, PixelSpacing?: number, MRAcquisitionType?: string, ScanningSequence?: string }
}

const build = (name: keyof typeof BUILTIN_SEQUENCES, params: Record<string, unknown> = {}): () => string =>
  () => writeSeq((BUILTIN_SEQUENCES[name].build as (p: Record<string, unknown>) => Sequence)(params))

const CASES: Case[] = [
  { name: 'GRE, labelled', seq: build('gre', { matrix: [64, 64] }), tolerance: 0.02 },
  { name: 'GRE without labels', seq: build('gre', { matrix: [64, 64], labels: false }), tolerance: 0.02 },
  { name: 'multi-slice GRE', seq: build('gre-multislice', { matrix: [64, 64] }), tolerance: 0.02, dicom: { SliceThickness: 5, SpacingBetweenSlices: 5, MRAcquisitionType: '2D', ScanningSequence: 'GR' } },
  { name: 'spin echo', seq: build('spin-echo', { matrix: [64, 64] }), tolerance: 0.02 },
  // T2 decay along the echo train weights k-space line by line: a blur the ideal image at one TE lacks
  { name: 'TSE', seq: build('tse', { matrix: [64, 64] }), tolerance: 0.08 },
  { name: '3D GRE, 64 mm slab', seq: build('gre3d', { matrix: [32, 32, 8], slabThicknessM: 0.064 }), tolerance: 0.02, dicom: { SliceThickness: 8, MRAcquisitionType: '3D', PixelSpacing: 8 } },
  { name: '3D GRE, partial Fourier 6/8 in both phase directions', seq: build('gre3d', { matrix: [32, 32, 16], partialFourierY: 6 / 8, partialFourierZ: 6 / 8 }), tolerance: 0.12 },
  // T2* decay along the echo train, and the regridding of the ramps
  { name: 'EPI with navigators and ramp sampling', seq: build('epi', { matrix: [64, 64], rampSampling: true }), tolerance: 0.1 },
  {
    name: 'multi-slice EPI with navigators, TE 35 ms, 4 mm slices 6 mm apart',
    seq: build('epi', { matrix: [64, 64], fovM: 0.256, teS: 0.035, slices: 3, sliceThicknessM: 0.004, sliceSpacingM: 0.006 }),
    tolerance: 0.1,
    dicom: { EchoTime: 35, SliceThickness: 4, SpacingBetweenSlices: 6, PixelSpacing: 4, MRAcquisitionType: '2D', ScanningSequence: 'EP' }
  },
  { name: 'partial-Fourier EPI', seq: build('epi', { matrix: [64, 64], partialFourier: 6 / 8 }), tolerance: 0.15 },
  // spokes sampled at exactly the Nyquist spacing (the built-in's default) grid less accurately than
  // oversampled ones, as with any gridding
  { name: 'radial', seq: build('radial', { matrix: [64, 64] }), tolerance: 0.2 },
  { name: 'radial, readout oversampled twice', seq: build('radial', { matrix: [64, 64], readoutOversampling: 2 }), coils: 4, tolerance: 0.12 },
  { name: 'golden-angle radial', seq: build('radial-golden', { matrix: [64, 64] }), tolerance: 0.2 },
  { name: 'UTE', seq: build('ute', { matrix: [64, 64] }), tolerance: 0.2 },
  { name: 'spiral', seq: build('spiral', { matrix: [64, 64] }), tolerance: 0.2 },
  { name: 'GRE undersampled R=2, 24 calibration lines', seq: build('gre-undersampled', { matrix: [64, 64], acceleration: 2, calibrationLines: 24 }), coils: 8, tolerance: 0.08 },
  { name: 'GRE undersampled R=3, 24 calibration lines', seq: build('gre-undersampled', { matrix: [96, 96], acceleration: 3, calibrationLines: 24 }), coils: 8, tolerance: 0.12 },
  { name: 'GRE undersampled R=2 with too few calibration lines', seq: build('gre-undersampled', { matrix: [64, 64], acceleration: 2, calibrationLines: 2 }), coils: 8, refused: /undersampled by 2.*calibration/ }
]

const fromFixture = (file: string): () => Promise<string> => async () => await readFile(fixture('pulseq', file), 'utf8')

/** Every Pulseq file of ../shared/fixtures/pulseq, as a lab would bring it. */
const FIXTURES: Case[] = [
  { name: 'pypulseq_write_gre_v150.seq', seq: fromFixture('pypulseq_write_gre_v150.seq'), tolerance: 0.05 },
  { name: 'tutorial_gre_prisma_v140.seq', seq: fromFixture('tutorial_gre_prisma_v140.seq'), tolerance: 0.05 },
  { name: 'pulseq_gre_v151.seq', seq: fromFixture('pulseq_gre_v151.seq'), tolerance: 0.05 },
  // T2 decay along the echo train weights k-space line by line: a blur the ideal image at one TE lacks
  { name: 'pypulseq_write_tse_v150.seq', seq: fromFixture('pypulseq_write_tse_v150.seq'), tolerance: 0.25 },
  // three inversion-prepared slices of 32 x 32 (the file encodes no kz), in every revision of the format;
  // each line is read at its own time after the inversion, a T1 weighting along ky the ideal image at one TI lacks
  { name: 'pypulseq_mprage_v120.seq', seq: fromFixture('pypulseq_mprage_v120.seq'), tolerance: 0.3 },
  { name: 'pypulseq_mprage_v131.seq', seq: fromFixture('pypulseq_mprage_v131.seq'), tolerance: 0.3 },
  { name: 'pypulseq_mprage_v142.seq', seq: fromFixture('pypulseq_mprage_v142.seq'), tolerance: 0.3 },
  { name: 'pypulseq_mprage_v150.seq', seq: fromFixture('pypulseq_mprage_v150.seq'), tolerance: 0.3 },
  { name: 'pulseq_fid_v151.seq', seq: fromFixture('pulseq_fid_v151.seq'), refused: /no phase encoding: an FID/ },
  { name: 'tutorial_fid_trio_v140.seq', seq: fromFixture('tutorial_fid_trio_v140.seq'), refused: /no phase encoding: an FID/ },
  { name: 'mrd_example_v142.seq', seq: fromFixture('mrd_example_v142.seq'), refused: /simulate: .*no ADC events/ }
]

/** simulate then recon one case, and check the image against the ideal one, or the refusal. */
async function check (c: Case): Promise<void> {
    const { images, refusal, plan, folder } = await scanAndReconstruct(c.name.replace(/\W+/g, '-'), await c.seq(), c.coils ?? 1)
    if (c.refused !== undefined) {
      expect(refusal).toMatch(c.refused)
      return
    }
    expect(refusal, `${c.name} was refused`).toBeUndefined()
    expect(images.length).toBeGreaterThanOrEqual(plan.slices)
    const references = referencesFor(plan, images)
    const errors = images.map((image, i) => nrmse(image.pixels, references[i]))
    console.log(`${c.name}: ${images.length} images ${images[0].columns}x${images[0].rows}, NRMSE against the ideal image ${Math.min(...errors).toFixed(3)}..${Math.max(...errors).toFixed(3)} (tolerance ${c.tolerance})`)
    errors.forEach((error, i) => {
      expect(error, `${c.name}, image ${images[i].instance} at ${(images[i].sliceM * 1000).toFixed(1)} mm`).toBeLessThan(c.tolerance ?? 0)
    })
    if (c.dicom !== undefined && hasPythonModules('pydicom')) {
      const read = pydicomValues(folder)
      expect(read).toHaveLength(images.length)
      const want = c.dicom
      for (const tags of read) {
        if (want.EchoTime !== undefined) expect(tags.EchoTime as number).toBeCloseTo(want.EchoTime, 0)
        if (want.SliceThickness !== undefined) expect(tags.SliceThickness as number).toBeCloseTo(want.SliceThickness, 3)
        if (want.PixelSpacing !== undefined) expect(tags.PixelSpacing).toEqual([want.PixelSpacing, want.PixelSpacing])
        if (want.MRAcquisitionType !== undefined) expect(tags.MRAcquisitionType).toBe(want.MRAcquisitionType)
        if (want.ScanningSequence !== undefined) expect(String(tags.ScanningSequence)).toContain(want.ScanningSequence)
        // written where the writer had seen the neighbouring slice; never wrong where it is written
        if (want.SpacingBetweenSlices !== undefined && tags.SpacingBetweenSlices !== null) expect(tags.SpacingBetweenSlices as number).toBeCloseTo(want.SpacingBetweenSlices, 3)
      }
      if (want.SpacingBetweenSlices !== undefined) expect(read.some((t) => t.SpacingBetweenSlices !== null)).toBe(true)
    }
}

describe('simulate then recon: the right image or a clear refusal', () => {
  for (const c of CASES) {
    it(c.name, async () => { await check(c) }, 300_000)
  }

  for (const c of FIXTURES) {
    it.skipIf(!hasFixtures())(`the real sequence ${c.name}`, async () => { await check(c) }, 300_000)
  }
})
