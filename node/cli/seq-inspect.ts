// `scanhub seq inspect FILE`: what a Pulseq file does, in numbers (or as JSON for scripts).
import { readFile } from 'node:fs/promises'
import { parseSeq, summarize, verifySignature, type SeqSummary, type SignatureCheck } from '../../protocol/pulseq/index.ts'
import { formatHelp, parseCommand, UsageError, type CommandSpec } from './args.ts'

export const SEQ_INSPECT: CommandSpec = {
  usage: 'scanhub seq inspect FILE [--json]',
  description: 'Reads a Pulseq sequence (.seq, versions 1.2 to 1.5) and prints its summary: duration, blocks, ADC readouts by role, trajectory, TE, TR, TI, echo spacing, flip angle, FOV, matrix, slices, acceleration, which counters the labels set, whether its signature is valid, and every guess made where the file does not say.',
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
  const warnings = [...seq.warnings, ...summary.warnings]
  if (values.json === true) {
    process.stdout.write(JSON.stringify({ ...summary, signature, warnings }, null, 2) + '\n')
    return
  }
  process.stdout.write(formatSummary(path, summary, signature, warnings).join('\n') + '\n')
}

/** The summary as lines for people: what was read, and every guess made on the way. */
export function formatSummary (path: string, summary: SeqSummary, signature: SignatureCheck, warnings: string[]): string[] {
  const ms = (s?: number): string => s === undefined ? '?' : `${(s * 1e3).toFixed(2)} ms`
  const enc = summary.ismrmrdEncoding
  const trajectory = [`${summary.trajectory}${enc !== undefined ? ` (ISMRMRD ${enc.trajectory})` : ''}`]
  if (summary.epi !== undefined) {
    const e = summary.epi
    trajectory.push(e.reversedLines ? 'alternate lines reversed' : 'lines in one direction')
    if (e.rampSampling) trajectory.push('ramp sampling')
    if (e.navigators > 0) trajectory.push(`${e.navigators} navigator${e.navigators > 1 ? 's' : ''} per train`)
  }
  if (summary.goldenAngle === true) trajectory.push('golden angle')
  const timing = [`${ms(summary.teS)} / ${ms(summary.trS)}`]
  if (summary.tiS !== undefined) timing.push(`TI ${ms(summary.tiS)}`)
  if (summary.echoSpacingS !== undefined) timing.push(`echo spacing ${ms(summary.echoSpacingS)}`)
  if (summary.echoTrainLength !== undefined && summary.echoTrainLength > 1) timing.push(`echo train ${summary.echoTrainLength}`)
  const matrix = [summary.matrix?.join(' x ') ?? '?']
  if (summary.slices !== undefined && summary.slices > 1) matrix.push(`${summary.slices} slices`)
  const [r1, r2] = summary.acceleration
  if (r1 > 1 || r2 > 1) matrix.push(`acceleration ${r1}${r2 > 1 ? ` x ${r2}` : ''}`)
  const [p1, p2] = summary.partialFourier
  if (p1 < 1 || p2 < 1) matrix.push(`partial Fourier ${p1.toFixed(3)}${p2 < 1 ? ` x ${p2.toFixed(3)}` : ''}`)
  if (summary.readoutOversampling !== undefined && summary.readoutOversampling > 1) matrix.push(`readout oversampling ${summary.readoutOversampling}`)
  const roles = Object.entries(summary.roles).map(([role, n]) => `${n} ${role}`).join(', ')
  const lines = [
    `${path}: Pulseq ${summary.version}${summary.name !== undefined ? `, "${summary.name}"` : ''}`,
    `  duration     ${summary.durationS.toFixed(3)} s in ${summary.blocks} blocks`,
    `  ADC          ${summary.adcReadouts} readouts (${roles === '' ? 'none' : roles}), ${summary.adcSamples} samples`,
    `  trajectory   ${trajectory.join(', ')}`,
    `  TE / TR      ${timing.join(', ')}`
  ]
  if (summary.contrastTesS !== undefined) lines.push(`  echoes       ${summary.contrastTesS.map((t) => ms(t)).join(', ')}`)
  lines.push(
    `  flip angle   ${summary.flipAngleDeg?.toFixed(1) ?? '?'}°`,
    `  FOV          ${summary.fovM?.map((f) => (f * 1e3).toFixed(1)).join(' x ') ?? '?'} mm${summary.sliceThicknessM !== undefined ? `, ${summary.matrix !== undefined && summary.matrix[2] > 1 ? 'slab' : 'slice'} ${(summary.sliceThicknessM * 1e3).toFixed(2)} mm` : ''}`,
    `  matrix       ${matrix.join(', ')}`,
    `  labels       ${summary.labelled.length > 0 ? summary.labelled.join(' ') : 'none'}${summary.labelled.length > 0 ? '; other counters derived' : '; counters derived from the events'}`,
    `  signature    ${signature.present ? (signature.valid ? `valid (${signature.type})` : 'INVALID: the file was changed after it was signed') : 'none'}`
  )
  for (const warning of warnings) lines.push(`  warning      ${warning}`)
  return lines
}
