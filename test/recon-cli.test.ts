// `scanhub recon FILE --out DIR` against Debian's tools: phantoms from
// ismrmrd_generate_cartesian_shepp_logan (matrix sizes, coil counts, noise levels) must give, in the
// DICOM files, the image of ismrmrd_recon_cartesian_2d to NRMSE < 1 % after a least-squares scale,
// pixel for pixel in the orientation the writer states (columns along the readout, rows along the
// phase encoding, as Gadgetron and ismrmrd_recon_cartesian_2d store images). Every file must pass
// dciodvfy without an error, read in pydicom and convert with dcm2niix. The real OSI² ONE file gives
// 10 images of its ring phantom; an MRD stream from `scanhub simulate` reconstructs too.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readDicom } from '../protocol/dicom/index.ts'
import { readH5Array } from '../recon-node/pipeline/h5-test-data.ts'
import { scaledNrmse } from '../recon-node/fft/test-support.ts'
import { reconCommand } from '../recon-node/cli/recon.ts'
import { DEBIAN_PYTHON, fixture, hasFixtures, hasPythonModules, hasTool } from './support/external-tools.ts'
import { PROJECT_ROOT, SCANHUB_BIN } from './support/peer-process.ts'

const generator = hasTool('ismrmrd_generate_cartesian_shepp_logan') && hasTool('ismrmrd_recon_cartesian_2d')
const checkers = hasTool('dciodvfy') && hasTool('dcm2niix') && hasPythonModules('pydicom')

let dir: string
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'scanhub-recon-cli-')) })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

function run (command: string, args: string[], cwd = dir): string {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000 })
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`)
  return `${r.stdout}${r.stderr}`
}

async function dicomFiles (out: string): Promise<string[]> {
  return (await readdir(out)).filter((f) => f.endsWith('.dcm')).sort().map((f) => join(out, f))
}

/** The DICOM checks every output must pass: dciodvfy without errors, pydicom, dcm2niix. */
async function checkDicomFiles (files: string[]): Promise<void> {
  if (!checkers) return
  for (const file of files) {
    const report = spawnSync('dciodvfy', [file], { encoding: 'utf8' })
    const errors = `${report.stdout}${report.stderr}`.split('\n').filter((line) => /Error/.test(line))
    expect(errors, `dciodvfy ${file}`).toEqual([])
  }
  run(DEBIAN_PYTHON, ['-c', 'import sys, pydicom\nfor f in sys.argv[1:]:\n    d = pydicom.dcmread(f)\n    assert d.pixel_array.shape == (d.Rows, d.Columns)', ...files])
  const nifti = await mkdtemp(join(dir, 'nii-'))
  run('dcm2niix', ['-o', nifti, '-f', 'series', join(files[0], '..')])
  expect((await readdir(nifti)).some((f) => f.endsWith('.nii'))).toBe(true)
}

let counter = 0

async function chainWithoutPrewhitening (): Promise<string> {
  const chain = join(dir, 'no-prewhitening.json')
  await writeFile(chain, JSON.stringify([{ stage: 'remove-oversampling' }, { stage: 'accumulate' }, { stage: 'fft' }, { stage: 'crop-to-recon-space' }, { stage: 'coil-combine-rss' }, { stage: 'scale' }]))
  return chain
}

describe.skipIf(!generator)('scanhub recon on ismrmrd_generate_cartesian_shepp_logan phantoms', () => {
  // [matrix, coils, noise level, noise calibration readouts]
  const cases: Array<[number, number, number, boolean]> = [[64, 4, 0.05, false], [128, 8, 0.2, false], [96, 2, 0, false], [128, 8, 0.05, true]]
  it.each(cases)('matrix %i, %i coils, noise %f, noise readouts %s: DICOM pixels match ismrmrd_recon_cartesian_2d to NRMSE < 1 percent', async (matrix, coils, noise, calibration) => {
    const h5 = join(dir, `sl-${counter++}.h5`)
    run('ismrmrd_generate_cartesian_shepp_logan', ['-m', String(matrix), '-c', String(coils), '-n', String(noise), ...(calibration ? ['-C'] : []), '-o', h5])
    run('ismrmrd_recon_cartesian_2d', [h5])
    const reference = await readH5Array(h5, 'dataset/cpp/data')
    expect(reference.shape).toEqual([1, 1, 1, matrix, matrix])

    const out = join(dir, `out-${counter}`)
    const args = [h5, '--out', out, '--quiet', '--threads', '2']
    // ismrmrd_recon_cartesian_2d does not prewhiten, and the generator's single noise readout makes
    // whitening change the image by about 2 %: compare the chain without that stage
    if (calibration) args.push('--chain', await chainWithoutPrewhitening())
    await reconCommand(args)
    const files = await dicomFiles(out)
    expect(files).toHaveLength(1)
    const image = readDicom(await readFile(files[0]))
    expect([image.columns, image.rows]).toEqual([matrix, matrix])
    expect(image.imageOrientationPatient).toEqual([1, 0, 0, 0, 1, 0])
    const pixels = Float32Array.from(image.pixels)
    expect(scaledNrmse(pixels, reference.data)).toBeLessThan(0.01)
    // the same pixels transposed or flipped are far off: the orientation is really checked
    const transposed = pixels.map((_, i) => pixels[(i % matrix) * matrix + Math.floor(i / matrix)])
    expect(scaledNrmse(transposed, reference.data)).toBeGreaterThan(0.05)
    await checkDicomFiles(files)
  }, 120_000)
})

describe.skipIf(!hasFixtures())('scanhub recon on real and simulated files (the command as users run it)', () => {
  it('reconstructs the OSI² ONE 3-D TSE into 10 DICOM images of its ring phantom, warning about its header', async () => {
    const out = join(dir, 'osi')
    const r = spawnSync(process.execPath, [SCANHUB_BIN, 'recon', fixture('ismrmrd', 'osi2one_tse3d.h5'), '--out', out], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 120_000 })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stderr).toContain('field strength 48511.9775 T is implausible')
    expect(r.stderr).toContain('agree when read in µT and µHz: writing 0.0485 T')
    expect(r.stderr).toMatch(/10 images from 1000 acquisitions written to/)
    const files = await dicomFiles(out)
    expect(files).toHaveLength(10)
    const images = await Promise.all(files.map(async (f) => readDicom(await readFile(f))))
    expect(images.map((i) => [i.columns, i.rows])).toEqual(Array.from({ length: 10 }, () => [100, 100]))
    // partitions 15 mm apart along z, in order
    expect(images.map((i) => i.imagePositionPatient?.[2])).toEqual([-75, -60, -45, -30, -15, 0, 15, 30, 45, 60])
    expect(images[0].dataset.MagneticFieldStrength).toBeCloseTo(0.0485, 4)
    // the central partitions show the phantom: bright inside its 30-pixel radius, dark outside 40
    for (const image of images.slice(3, 7)) {
      let inside = 0; let nInside = 0; let outside = 0; let nOutside = 0
      for (let y = 0; y < 100; y++) {
        for (let x = 0; x < 100; x++) {
          const r2 = (x - 50) ** 2 + (y - 50) ** 2
          const v = image.pixels[y * 100 + x]
          if (r2 < 30 ** 2) { inside += v; nInside++ } else if (r2 > 40 ** 2) { outside += v; nOutside++ }
        }
      }
      expect(inside / nInside).toBeGreaterThan(8 * outside / nOutside)
    }
    await checkDicomFiles(files)
  }, 180_000)

  it.skipIf(!generator || !hasPythonModules('h5py', 'numpy'))('reconstructs an MRD v1 stream file from `scanhub simulate` like ismrmrd_recon_cartesian_2d does', async () => {
    const mrd = join(dir, 'sim.mrd')
    execFileSync(process.execPath, [SCANHUB_BIN, 'simulate', '--seq', 'builtin:gre', '--matrix', '64', '--coils', '4', '--noise', '0.01', '--out', mrd], { cwd: PROJECT_ROOT, stdio: 'pipe' })
    const h5 = join(dir, 'sim.h5')
    run(DEBIAN_PYTHON, [join(PROJECT_ROOT, 'recon-node', 'import', 'mrd-stream-to-hdf5.py'), mrd, h5])
    run('ismrmrd_recon_cartesian_2d', [h5])
    const reference = await readH5Array(h5, 'dataset/cpp/data')
    const reconstruct = async (out: string, chain: string[]): Promise<{ files: string[], pixels: Float32Array }> => {
      await reconCommand([mrd, '--out', out, '--quiet', '--threads', '2', ...chain])
      const files = await dicomFiles(out)
      expect(files).toHaveLength(1)
      const image = readDicom(await readFile(files[0]))
      expect(image.columns * image.rows).toBe(reference.data.length)
      return { files, pixels: Float32Array.from(image.pixels) }
    }
    // as the reference, without prewhitening
    const plain = await reconstruct(join(dir, 'sim-plain'), ['--chain', await chainWithoutPrewhitening()])
    expect(scaledNrmse(plain.pixels, reference.data)).toBeLessThan(0.01)
    // the default chain whitens with a covariance estimated from 8 noise readouts: the virtual
    // scanner's noise is white, so only the estimate's error (a few percent) changes the image
    const whitened = await reconstruct(join(dir, 'sim-default'), [])
    expect(scaledNrmse(whitened.pixels, reference.data)).toBeLessThan(0.03)
    await checkDicomFiles(whitened.files)
  }, 180_000)

  it.skipIf(!generator)('gives every reconstruction UIDs of its own, and takes the patient and study the user names', async () => {
    // different data, and the same data twice: with no study or measurement ids in the headers
    const inputs: string[] = []
    for (const [name, args] of [['a', ['-m', '32', '-c', '2']], ['b', ['-m', '48', '-c', '2']], ['c', ['-m', '32', '-c', '4', '-r', '2']]] as const) {
      run('ismrmrd_generate_cartesian_shepp_logan', [...args, '-o', `uid-${name}.h5`])
      inputs.push(join(dir, `uid-${name}.h5`))
    }
    inputs.push(inputs[0])
    const studies = new Set<string>()
    const series = new Set<string>()
    const instances = new Set<string>()
    let files = 0
    for (const [i, input] of inputs.entries()) {
      const out = join(dir, `uid-out-${i}`)
      await reconCommand([input, '--out', out, '--quiet', '--threads', '2'])
      for (const file of await dicomFiles(out)) {
        const ds = readDicom(await readFile(file)).dataset as Record<string, string>
        studies.add(ds.StudyInstanceUID)
        series.add(ds.SeriesInstanceUID)
        instances.add(ds.SOPInstanceUID)
        expect(ds.PatientID).toBe('')
        files++
      }
    }
    expect(studies.size).toBe(inputs.length)
    expect(series.size).toBe(inputs.length)
    expect(instances.size).toBe(files)

    const out = join(dir, 'uid-named')
    await reconCommand([inputs[0], '--out', out, '--quiet', '--patient-id', 'MRN-0042', '--patient-name', 'Lovelace^Ada', '--study-uid', '1.2.826.0.1.3680043.2.1125.7'])
    const ds = readDicom(await readFile((await dicomFiles(out))[0])).dataset as Record<string, unknown>
    expect(ds).toMatchObject({ PatientID: 'MRN-0042', StudyInstanceUID: '1.2.826.0.1.3680043.2.1125.7' })
    expect(JSON.stringify(ds.PatientName)).toContain('Lovelace^Ada')
    await expect(reconCommand([inputs[0], '--out', out, '--study-uid', '1.02.3'])).rejects.toThrow(/not a DICOM UID/)
  }, 180_000)
})
