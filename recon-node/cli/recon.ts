// `scanhub recon FILE --out DIR`: reconstructs an ISMRMRD HDF5 file or an MRD v1 stream file (what a
// scanner peer records, what `scanhub simulate` writes) into one DICOM file per image, with the
// pipeline a reconstruction peer runs. Header values that no scanner could produce are reported on
// stderr and replaced in the DICOM files.
import { createReadStream } from 'node:fs'
import { mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { basename, join } from 'node:path'
import { formatHelp, intOption, parseCommand, UsageError, type CommandSpec } from '../../node/cli/args.ts'
import { ProgressBar } from '../../node/cli/progress.ts'
import { parseIsmrmrdXml, validateIsmrmrdHeader, type IsmrmrdHeader, type MrdWarning } from '../../protocol/mrd/xml-header.ts'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { createFftPool } from '../fft/pool.ts'
import { readIsmrmrdHdf5 } from '../import/index.ts'
import { resolveChain, type Chain } from '../pipeline/chain.ts'
import { chainForPipeline, PIPELINES } from '../pipeline/pipelines.ts'
import type { ReconHeader } from '../stages/stage.ts'
import { runPipeline } from '../pipeline/run.ts'
import { DicomSeriesWriter, describeSeries, type SeriesOverrides } from '../jobs/dicom-series.ts'
import { isValidUid } from '../../protocol/dicom/uid.ts'
import { MrdSource } from '../jobs/mrd-source.ts'
import { reconHeaderOf } from '../jobs/recon-header.ts'

export const RECON: CommandSpec = {
  usage: 'scanhub recon FILE.h5|FILE.mrd --out DIR [--chain PIPELINE|CHAIN.json] [--patient-id ID] [--patient-name NAME] [--study-uid UID] [--dataset NAME] [--threads N]',
  description: 'Reconstructs raw MRI data (ISMRMRD HDF5, or an MRD v1 stream file) into DICOM MR images, one file per image, in DIR.',
  options: {
    out: { type: 'string' },
    chain: { type: 'string' },
    'patient-id': { type: 'string' },
    'patient-name': { type: 'string' },
    'study-uid': { type: 'string' },
    dataset: { type: 'string' },
    threads: { type: 'string' },
    quiet: { type: 'boolean' }
  },
  help: {
    '--out DIR': 'where to write the DICOM files (created if missing; files of the same series are overwritten)',
    '--chain NAME|FILE': `the reconstruction: a pipeline (${PIPELINES.map((p) => p.name).join(', ')}; default picks from the data's header), or a JSON file [{ "stage": ..., "params": {...} }, ...]`,
    '--patient-id ID': 'PatientID of the images (default: the raw data\'s, else empty)',
    '--patient-name NAME': 'PatientName as Last^First (default: the raw data\'s)',
    '--study-uid UID': 'StudyInstanceUID of the images, to add this series to an existing study (default: the raw data\'s, else a new study)',
    '--dataset NAME': 'the HDF5 group that holds xml and data (default dataset)',
    '--threads N': `FFT worker threads (default ${availableParallelism()})`,
    '--quiet': 'no progress bar',
    '-h, --help': 'show this help'
  }
}

/** What a raw file holds, from its first bytes: HDF5 has an 8-byte signature, an MRD stream starts with a message id. */
async function sniff (path: string): Promise<'hdf5' | 'mrd'> {
  const handle = await open(path, 'r')
  try {
    const head = Buffer.alloc(8)
    const { bytesRead } = await handle.read(head, 0, 8, 0)
    if (bytesRead === 8 && head.equals(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'hdf5'
    const id = bytesRead >= 2 ? head.readUInt16LE(0) : -1
    if (id === 1 || id === 2 || id === 3) return 'mrd'
    // an HDF5 user block puts the signature at 512, 1024, ...: let the HDF5 reader look
    if (path.toLowerCase().endsWith('.h5') || path.toLowerCase().endsWith('.hdf5')) return 'hdf5'
    throw new UsageError(`${path} is neither ISMRMRD HDF5 nor an MRD v1 stream (it starts with ${head.subarray(0, bytesRead).toString('hex')})`)
  } finally {
    await handle.close()
  }
}

/**
 * The patient and study the user names. Every run is a new series with UIDs of its own, so that two
 * reconstructions never collide in a PACS; --study-uid puts it into an existing study.
 */
function identityOverrides (values: Record<string, unknown>): SeriesOverrides {
  const studyUid = values['study-uid']
  if (typeof studyUid === 'string' && !isValidUid(studyUid)) throw new UsageError(`--study-uid ${studyUid}: not a DICOM UID (digits and dots, at most 64 characters, no leading zeros)`)
  const patientId = values['patient-id']
  const patientName = values['patient-name']
  const [lastName, ...given] = typeof patientName === 'string' ? patientName.split(/\^|,\s*/) : []
  return {
    ...(typeof patientId === 'string' || typeof patientName === 'string'
      ? {
          patient: {
            ...(typeof patientId === 'string' ? { id: patientId } : {}),
            ...(typeof patientName === 'string' ? { lastName: lastName ?? '', firstName: given.join(' ') } : {})
          }
        }
      : {}),
    ...(typeof studyUid === 'string' ? { study: { id: studyUid, uid: studyUid } } : {})
  }
}

/** --chain: a pipeline's name (pipelines.ts; `default` picks from the header) or a JSON file of steps. */
async function loadChain (value: string | undefined, header: ReconHeader): Promise<Chain> {
  if (value === undefined || PIPELINES.some((p) => p.name === value)) return chainForPipeline(value ?? 'default', header)
  let chain: unknown
  try {
    chain = JSON.parse(await readFile(value, 'utf8'))
  } catch (err) {
    throw new UsageError(`--chain ${value}: not a pipeline (${PIPELINES.map((p) => p.name).join(', ')}) or a readable JSON file (${(err as Error).message})`)
  }
  if (!Array.isArray(chain)) throw new UsageError(`--chain ${value}: expected a JSON array of { "stage": ..., "params": {...} }`)
  resolveChain(chain as Chain)
  return chain as Chain
}

interface Input {
  header: IsmrmrdHeader
  acquisitions: AsyncIterable<Acquisition>
  /** acquisitions when known (HDF5), for the progress bar and the pipeline's fraction */
  count?: number
  /** progress in units of `total` */
  total: number
  done: () => number
}

async function openInput (path: string, dataset: string | undefined, warn: (w: MrdWarning) => void): Promise<Input> {
  if (await sniff(path) === 'hdf5') {
    const file = await readIsmrmrdHdf5(path, { dataset, onWarning: warn })
    let read = 0
    async function * counted (): AsyncGenerator<Acquisition> {
      for await (const a of file.acquisitions) { read++; yield a }
    }
    return { header: file.header, acquisitions: counted(), count: file.count, total: file.count, done: () => read }
  }
  const size = (await stat(path)).size
  const source = new MrdSource(createReadStream(path, { highWaterMark: 1 << 20 }))
  const header = parseIsmrmrdXml(await source.header())
  for (const w of validateIsmrmrdHeader(header)) warn(w)
  let position = 0
  async function * acquisitions (): AsyncGenerator<Acquisition> {
    for await (const placed of source.acquisitions()) {
      position = placed.end
      yield placed.acquisition
    }
  }
  return { header, acquisitions: acquisitions(), total: size, done: () => position }
}

export async function reconCommand (argv: string[]): Promise<void> {
  const { values, positionals, help } = parseCommand(RECON, argv)
  if (help) { process.stdout.write(formatHelp(RECON)); return }
  if (positionals.length !== 1) throw new UsageError(`give exactly one raw data file\n\n${formatHelp(RECON)}`)
  if (typeof values.out !== 'string') throw new UsageError(`--out is required\n\n${formatHelp(RECON)}`)
  const path = positionals[0]
  const outDir = values.out
  const threads = intOption(values.threads, '--threads', availableParallelism(), 1, 256)
  const quiet = values.quiet === true
  const warnings: string[] = []
  const warn = (message: string): void => {
    warnings.push(message)
    // on a terminal the progress bar owns the current line: start a new one
    process.stderr.write(`${!quiet && process.stderr.isTTY ? '\n' : ''}warning: ${message}\n`)
  }
  try {
    await stat(path)
  } catch {
    throw new UsageError(`${path}: no such file`)
  }

  const input = await openInput(path, values.dataset as string | undefined, (w) => warn(`${w.path}: ${w.message}`))
  const reconHeader = reconHeaderOf(input.header, input.count)
  const chain = await loadChain(values.chain as string | undefined, reconHeader)
  resolveChain(chain)
  const fileTime = (await stat(path)).mtime
  const info = describeSeries(input.header, identityOverrides(values), fileTime, warn)
  const writer = new DicomSeriesWriter(input.header, info, warn)
  await mkdir(outDir, { recursive: true })

  const fft = createFftPool({ size: threads })
  const progress = quiet ? undefined : new ProgressBar(`recon ${basename(path)}`, input.total)
  const stageWarnings = new Set<string>()
  let written = 0
  const files: string[] = []
  try {
    // the writer sees every readout on its way, so that each image knows where the scan's other slices lie
    const summary = await runPipeline(writer.observe(input.acquisitions), reconHeader, chain, {
      fft,
      // every reader here decodes each readout into arrays of its own
      handsOverAcquisitions: true,
      onImage: async (image) => {
        const file = writer.write(image)
        const target = join(outDir, file.name)
        await writeFile(target, file.bytes)
        files.push(target)
        written++
        progress?.update(input.done(), `${written} images`)
      },
      onProgress: () => { progress?.update(input.done(), `${written} images`) },
      onWarning: (message, stage) => {
        const text = `${stage}: ${message}`
        if (!stageWarnings.has(text)) { stageWarnings.add(text); warn(text) }
      }
    })
    progress?.update(input.total, `${written} images`)
    const line = `${summary.images} images from ${summary.acquisitions} acquisitions written to ${outDir}${warnings.length > 0 ? ` (${warnings.length} warning${warnings.length > 1 ? 's' : ''})` : ''}`
    if (progress !== undefined) progress.done(line)
    else process.stderr.write(`${line}\n`)
    if (summary.images === 0) throw new Error(`${path} gave no images: does it hold image data (not only noise or calibration readouts)?`)
  } catch (err) {
    // A refused or failed reconstruction leaves no images behind: some slices alone would pass for a whole series.
    progress?.done(`recon ${basename(path)}: failed`)
    await Promise.allSettled(files.map(async (f) => await rm(f, { force: true })))
    throw err
  } finally {
    await fft.close()
  }
}
