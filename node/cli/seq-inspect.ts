// `scanhub seq inspect FILE`: what a Pulseq file does, in numbers (or as JSON for scripts).
import { readFile } from 'node:fs/promises'
import { parseSeq, summarize, verifySignature } from '../../protocol/pulseq/index.ts'
import { formatHelp, parseCommand, UsageError, type CommandSpec } from './args.ts'

export const SEQ_INSPECT: CommandSpec = {
  usage: 'scanhub seq inspect FILE [--json]',
  description: 'Reads a Pulseq sequence (.seq, versions 1.2 to 1.5) and prints its summary: duration, blocks, ADC readouts and samples, TE, TR, flip angle, FOV, matrix, and whether its signature is valid.',
  options: { json: { type: 'boolean' } },
  help: { '--json': 'print the summary as one JSON object', '-h, --help': 'show this help' }
}

export async function seqInspectCommand (argv: string[]): Promise<void> {
  const { values, positionals, help } = parseCommand(SEQ_INSPECT, argv)
  if (help) { process.stdout.write(formatHelp(SEQ_INSPECT)); return }
  const path = positionals[0]
  if (path === undefined) throw new UsageError(`name a .seq file\n\n${formatHelp(SEQ_INSPECT)}`)
  const text = await readFile(path, 'utf8')
  const seq = parseSeq(text)
  const summary = summarize(seq)
  const signature = verifySignature(text)
  if (values.json === true) {
    process.stdout.write(JSON.stringify({ ...summary, signature, warnings: seq.warnings }, null, 2) + '\n')
    return
  }
  const ms = (s?: number): string => s === undefined ? '?' : `${(s * 1e3).toFixed(2)} ms`
  const lines = [
    `${path}: Pulseq ${summary.version}${summary.name !== undefined ? `, "${summary.name}"` : ''}`,
    `  duration     ${summary.durationS.toFixed(3)} s in ${summary.blocks} blocks`,
    `  ADC          ${summary.adcReadouts} readouts, ${summary.adcSamples} samples`,
    `  TE / TR      ${ms(summary.teS)} / ${ms(summary.trS)}`,
    `  flip angle   ${summary.flipAngleDeg?.toFixed(1) ?? '?'}°`,
    `  FOV          ${summary.fovM?.map((f) => (f * 1e3).toFixed(1)).join(' x ') ?? '?'} mm`,
    `  matrix       ${summary.matrix?.join(' x ') ?? '?'}${summary.slices !== undefined && summary.slices > 1 ? `, ${summary.slices} slices` : ''}`,
    `  signature    ${signature.present ? (signature.valid ? `valid (${signature.type})` : 'INVALID: the file was changed after it was signed') : 'none'}`
  ]
  for (const warning of seq.warnings) lines.push(`  warning      ${warning}`)
  process.stdout.write(lines.join('\n') + '\n')
}
