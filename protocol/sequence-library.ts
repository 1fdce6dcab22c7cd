// The lab's sequence library: what is kept of a Pulseq file in the lab document (metadata and summary;
// the file itself is a blob), and the built-in sequences every lab starts with. Isomorphic: a hub
// seeds the library and the app reads it with the same code.
import { BUILTIN_SEQUENCES, detectSequenceType, parseSeq, summarize, verifySignature, writeSeq, type SeqSummary, type Sequence } from './pulseq/index.ts'

export interface BuiltinSequence {
  /** stable id in the lab document, the same on every peer: `builtin-<name>` */
  id: string
  name: string
  description: string
  type: string
  tags: string[]
  text: string
  summary: SeqSummary
}

const TYPES: Record<string, { type: string, tags: string[] }> = {
  gre: { type: 'GRE', tags: ['2D', 'gradient echo', 'FLASH'] },
  'gre-multislice': { type: 'GRE', tags: ['2D', 'multi-slice', 'gradient echo'] },
  'spin-echo': { type: 'SE', tags: ['2D', 'spin echo'] },
  fid: { type: 'FID', tags: ['calibration', 'frequency'] },
  tse: { type: 'TSE', tags: ['2D', 'turbo spin echo', 'T2'] },
  epi: { type: 'EPI', tags: ['2D', 'echo planar', 'single shot'] },
  radial: { type: 'GRE', tags: ['2D', 'radial', 'gradient echo'] },
  'radial-golden': { type: 'GRE', tags: ['2D', 'radial', 'golden angle', 'gradient echo'] },
  ute: { type: 'UTE', tags: ['2D', 'radial', 'ultrashort TE'] },
  spiral: { type: 'GRE', tags: ['2D', 'spiral', 'gradient echo'] },
  gre3d: { type: 'GRE', tags: ['3D', 'gradient echo'] },
  'gre-undersampled': { type: 'GRE', tags: ['2D', 'gradient echo', 'parallel imaging', 'undersampled'] }
}

/** The built-in sequences as Pulseq text, written by our writer (deterministic, so every peer agrees). */
export function builtinSequences (): BuiltinSequence[] {
  return Object.entries(BUILTIN_SEQUENCES).map(([name, entry]) => {
    const text = writeSeq(entry.build({}))
    return {
      id: `builtin-${name}`,
      name,
      description: entry.title,
      type: TYPES[name]?.type ?? 'OTHER',
      tags: TYPES[name]?.tags ?? [],
      text,
      summary: summarize(parseSeq(text))
    }
  })
}

/**
 * The library type of a sequence, from what it does (pulseq/sequence-type.ts): FID, EPI, TSE, SE, IR,
 * UTE or GRE (radial and spiral included), or OTHER when the events fit none of them.
 */
export function sequenceTypeOf (seq: Sequence, summary: SeqSummary): string {
  return detectSequenceType(seq, summary).type
}

/** The summary kept in the lab document (JSON-safe, small), with the type the sequence's events show. */
export function sequenceSummaryRecord (text: string): Record<string, unknown> {
  const seq = parseSeq(text)
  const summary = summarize(seq)
  const signature = verifySignature(text)
  const detected = detectSequenceType(seq, summary)
  return JSON.parse(JSON.stringify({
    ...summary,
    sequenceType: detected.type,
    // why that type, in words: what the events show, or what is missing for OTHER
    sequenceTypeReason: detected.reason,
    signatureValid: signature.present ? signature.valid : null,
    warnings: seq.warnings.slice(0, 20)
  })) as Record<string, unknown>
}
