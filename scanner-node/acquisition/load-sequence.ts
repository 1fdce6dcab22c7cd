// A sequence named on the command line or by a task: a .seq file, or one of ScanHub's built-in
// sequences written by our Pulseq writer (`builtin:gre`, with parameters such as the matrix).
import { BUILTIN_SEQUENCES, parseSeq, writeSeq, type Sequence } from '../../protocol/pulseq/index.ts'

export class SequenceSourceError extends Error {
  override name = 'SequenceSourceError'
}

export type BuiltinName = keyof typeof BUILTIN_SEQUENCES

export function builtinNames (): string[] {
  return Object.keys(BUILTIN_SEQUENCES)
}

/** Builds a built-in sequence and returns it as the .seq text a scanner would be sent. */
export function builtinSequenceText (name: string, params: { matrix?: number } = {}): string {
  const entry = (BUILTIN_SEQUENCES as Record<string, { build: (p: object) => Sequence }>)[name]
  if (entry === undefined) throw new SequenceSourceError(`no built-in sequence "${name}": choose from ${builtinNames().join(', ')}`)
  const options = params.matrix !== undefined && name !== 'fid' ? { matrix: [params.matrix, params.matrix] } : {}
  return writeSeq(entry.build(options))
}

export function parseSequenceText (text: string): Sequence {
  return parseSeq(text)
}
