// `scanhub simulate`: runs a sequence on the virtual scanner and writes the MRD v1 stream a scanner peer
// stores (message 3 XML header, 1008 acquisitions, 4 close), so that any MRD tool can read it.
import { open, readFile } from 'node:fs/promises'
import { encodeAcquisitionMessage, encodeCloseMessage, encodeHeaderMessage, writeIsmrmrdXml } from '../../protocol/mrd/index.ts'
import { formatHelp, intOption, parseCommand, UsageError, type CommandSpec } from '../../node/cli/args.ts'
import { ProgressBar } from '../../node/cli/progress.ts'
import { builtinNames, builtinSequenceText, parseSequenceText } from '../acquisition/load-sequence.ts'
import { planSequence } from '../acquisition/sequence-plan.ts'
import { virtualScan } from '../acquisition/virtual-scan.ts'

export const SIMULATE: CommandSpec = {
  usage: 'scanhub simulate --seq FILE|builtin:NAME [--coils N] [--matrix M] [--noise SIGMA] --out FILE.mrd',
  description: 'Runs a Pulseq sequence on the virtual scanner (a Shepp-Logan phantom seen through N receive coils) and writes the raw data as an MRD v1 stream.',
  options: {
    seq: { type: 'string' },
    coils: { type: 'string' },
    matrix: { type: 'string' },
    noise: { type: 'string' },
    seed: { type: 'string' },
    'off-resonance': { type: 'string' },
    out: { type: 'string' }
  },
  help: {
    '--seq FILE|builtin:NAME': `a .seq file (Pulseq 1.2 to 1.5), or a built-in sequence: ${builtinNames().map((n) => `builtin:${n}`).join(', ')}`,
    '--coils N': 'receive coils (default 4)',
    '--matrix M': 'matrix M x M of a built-in sequence (default 64)',
    '--noise SIGMA': 'standard deviation of the complex noise per sample (default 0.02)',
    '--seed N': 'seed of the noise generator (default 1)',
    '--off-resonance HZ': 'frequency offset of the spins (default 0)',
    '--out FILE': 'where to write the MRD stream',
    '-h, --help': 'show this help'
  }
}

export async function simulateCommand (argv: string[]): Promise<void> {
  const { values, help } = parseCommand(SIMULATE, argv)
  if (help) { process.stdout.write(formatHelp(SIMULATE)); return }
  if (typeof values.seq !== 'string') throw new UsageError(`--seq is required\n\n${formatHelp(SIMULATE)}`)
  if (typeof values.out !== 'string') throw new UsageError(`--out is required\n\n${formatHelp(SIMULATE)}`)
  const coils = intOption(values.coils, '--coils', 4, 1, 64)
  const matrix = values.matrix === undefined ? undefined : intOption(values.matrix, '--matrix', 64, 4, 1024)
  const noise = values.noise === undefined ? 0.02 : Number(values.noise)
  if (!Number.isFinite(noise) || noise < 0) throw new UsageError('--noise must be a number from 0')
  const offResonanceHz = values['off-resonance'] === undefined ? 0 : Number(values['off-resonance'])
  if (!Number.isFinite(offResonanceHz)) throw new UsageError('--off-resonance must be a number of hertz')

  const text = values.seq.startsWith('builtin:')
    ? builtinSequenceText(values.seq.slice('builtin:'.length), { matrix: matrix ?? 64 })
    : await readFile(values.seq, 'utf8')
  if (matrix !== undefined && !values.seq.startsWith('builtin:')) process.stderr.write('note: --matrix applies to built-in sequences; a .seq file sets its own matrix\n')
  const plan = planSequence(parseSequenceText(text))
  const scan = virtualScan({ plan, coils, noiseSigma: noise, seed: intOption(values.seed, '--seed', 1, 0, 2 ** 31), offResonanceHz, noiseReadouts: 8 })

  const file = await open(values.out, 'w')
  const progress = new ProgressBar('simulate', scan.count)
  try {
    await file.write(encodeHeaderMessage(writeIsmrmrdXml(scan.header)))
    let done = 0
    for (const acquisition of scan.acquisitions) {
      await file.write(encodeAcquisitionMessage(acquisition))
      progress.update(++done)
    }
    await file.write(encodeCloseMessage())
    await file.sync()
  } finally {
    await file.close()
  }
  const [nx, ny, nz] = plan.matrix
  progress.done(`${scan.count} acquisitions (${nx}x${ny}${nz > 1 ? `x${nz}` : ''}, ${plan.slices} slice${plan.slices > 1 ? 's' : ''}, ${coils} coils) written to ${values.out}`)
}
