// The virtual scanner's raw data as MRD tools see it: `scanhub simulate` writes an MRD v1 stream, a
// plain converter turns it into ISMRMRD HDF5, and Debian's ismrmrd_recon_cartesian_2d reconstructs
// the phantom from it.
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEBIAN_PYTHON, fixture, hasFixtures, hasPythonModules, hasTool } from './support/external-tools.ts'
import { PROJECT_ROOT, SCANHUB_BIN } from './support/peer-process.ts'
import { parseSeq, writeSeq, BUILTIN_SEQUENCES } from '../protocol/pulseq/index.ts'
import { phantomImageAt } from '../scanner-node/virtual/index.ts'
import { planSequence, type SequencePlan } from '../scanner-node/acquisition/sequence-plan.ts'
import { virtualScanPhantom } from '../scanner-node/acquisition/virtual-scan.ts'

const canRun = hasTool('ismrmrd_recon_cartesian_2d') && hasPythonModules('h5py', 'numpy')
const CONVERTER = join(PROJECT_ROOT, 'recon-node', 'import', 'mrd-stream-to-hdf5.py')
let dir: string

beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'scanhub-sim-')) })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

/** simulate → MRD stream → HDF5 → ismrmrd_recon_cartesian_2d → magnitude image (rows = phase, x fastest). */
async function simulateAndReconstruct (seqArg: string, extra: string[]): Promise<{ image: Float32Array, nx: number, ny: number, stream: Buffer }> {
  const mrd = join(dir, `${Math.random().toString(36).slice(2)}.mrd`)
  execFileSync(process.execPath, [SCANHUB_BIN, 'simulate', '--seq', seqArg, '--out', mrd, ...extra], { stdio: 'pipe' })
  const h5 = mrd.replace(/\.mrd$/, '.h5')
  execFileSync(DEBIAN_PYTHON, [CONVERTER, mrd, h5], { stdio: 'pipe' })
  execFileSync('ismrmrd_recon_cartesian_2d', [h5], { cwd: dir, stdio: 'pipe' })
  const raw = join(dir, 'image.f32')
  const shape = execFileSync(DEBIAN_PYTHON, ['-c', `
import h5py, numpy as np
x = np.squeeze(np.array(h5py.File('${h5}', 'r')['dataset']['cpp']['data'])).astype(np.float32)
np.abs(x).astype(np.float32).tofile('${raw}')
print(x.shape[1], x.shape[0])
`], { encoding: 'utf8' }).trim().split(' ').map(Number)
  const bytes = await readFile(raw)
  return { image: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4), nx: shape[0], ny: shape[1], stream: await readFile(mrd) }
}

/** Pearson correlation of an image with the virtual scanner's head drawn on the same grid, cut where the plan's slice lies. */
function correlationWithPhantom (image: Float32Array, nx: number, ny: number, plan: SequencePlan): number {
  const phantom = virtualScanPhantom(plan.fovM)
  const fovM = plan.fovM[0]
  const zM = plan.readouts.find((r) => r.isNoise !== true)?.sliceOffsetM ?? 0
  const truth = new Float64Array(nx * ny)
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      truth[j * nx + i] = phantomImageAt(phantom, (i - nx / 2) * fovM / nx, (j - ny / 2) * fovM / ny, plan.timing, { zM })
    }
  }
  const mean = (a: ArrayLike<number>): number => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]; return s / a.length }
  const ma = mean(image)
  const mb = mean(truth)
  let ab = 0; let aa = 0; let bb = 0
  for (let i = 0; i < truth.length; i++) {
    ab += (image[i] - ma) * (truth[i] - mb)
    aa += (image[i] - ma) ** 2
    bb += (truth[i] - mb) ** 2
  }
  return ab / Math.sqrt(aa * bb)
}

describe.skipIf(!canRun)('virtual scanner → MRD stream → ismrmrd_recon_cartesian_2d', () => {
  for (const [matrix, coils] of [[64, 4], [96, 2], [128, 8]] as const) {
    it(`reconstructs the phantom from builtin:gre at ${matrix}x${matrix} with ${coils} coils`, async () => {
      const { image, nx, ny, stream } = await simulateAndReconstruct('builtin:gre', ['--matrix', String(matrix), '--coils', String(coils), '--noise', '0.01'])
      expect([nx, ny]).toEqual([matrix, matrix])
      // the stream starts with the XML header message (id 3) and ends with close (id 4)
      expect(stream.readUInt16LE(0)).toBe(3)
      expect(stream.readUInt16LE(stream.length - 2)).toBe(4)
      const plan = planSequence(parseSeq(writeSeq(BUILTIN_SEQUENCES.gre.build({ matrix: [matrix, matrix] }))))
      const r = correlationWithPhantom(image, nx, ny, plan)
      expect(r).toBeGreaterThan(0.9)
    }, 120_000)
  }

  it.skipIf(!hasFixtures())('reconstructs the phantom from a real Pulseq GRE file (pulseq_gre_v151.seq)', async () => {
    const file = fixture('pulseq', 'pulseq_gre_v151.seq')
    const { image, nx, ny } = await simulateAndReconstruct(file, ['--coils', '4'])
    expect([nx, ny]).toEqual([64, 64])
    const plan = planSequence(parseSeq(await readFile(file, 'utf8')))
    expect(correlationWithPhantom(image, nx, ny, plan)).toBeGreaterThan(0.9)
  }, 120_000)
})
