// The type of a sequence (GRE, SE, TSE, EPI, IR, FID, UTE) read from what its events do, for the
// sequence library. The trajectory comes from the k-space analysis of the readouts (encoding.ts via the
// summary); the contrast comes from the order of RF pulses and ADCs here:
//
//   excitation, ADC, excitation, ADC ...            gradient echo
//   excitation, 180°, ADC                          spin echo
//   excitation, 180°, ADC, 180°, ADC ...           turbo spin echo (echo train length = 180°s per excitation)
//   180°, excitation ...  (no ADC in between)      inversion recovery
//
// Before Pulseq 1.5 a file does not say what a pulse is for, and the parser calls every pulse above 90°
// "refocusing", inversions included: so a large pulse is told apart by its neighbours, not by its flag.
// A sequence that fits none of the patterns is OTHER with the reason, never a guess.

import { rfFlipAngleDeg } from './events.ts'
import type { SeqSummary } from './summary.ts'
import type { RfEvent, Sequence } from './types.ts'

export const SEQUENCE_TYPES = ['GRE', 'SE', 'TSE', 'EPI', 'IR', 'FID', 'UTE', 'OTHER'] as const
export type SequenceType = typeof SEQUENCE_TYPES[number]

export interface SequenceTypeReport {
  type: SequenceType
  /** Why, in words: what was found in the events (or what is missing for OTHER). */
  reason: string
  /** Refocusing pulses per excitation of the imaging shots (SE: 1, TSE: more); absent for gradient echoes. */
  echoTrainLength?: number
  /** An inversion pulse comes before the excitations. */
  inversion: boolean
  /** The k-space trajectory as the summary classified it. */
  trajectory: SeqSummary['trajectory']
}

/** A pulse counted as a 180° (refocusing or inversion) when its flag does not say: well above 90°. */
const LARGE_PULSE_MIN_DEG = 150

type Kind = 'excitation' | 'large' | 'other'
interface Pulse { kind: Kind, inversionFlag: boolean }
type Step = { pulse: Pulse } | { adc: true }

const TRAJECTORY_WORDS: Record<SeqSummary['trajectory'], string> = {
  'cartesian-2d': 'Cartesian 2D',
  'cartesian-3d': 'Cartesian 3D',
  epi: 'echo-planar',
  radial: 'radial',
  ute: 'radial from the k-space centre (ultrashort TE)',
  spiral: 'spiral',
  fid: 'no spatial encoding',
  other: 'unrecognised'
}

/** The type of a parsed sequence with its summary (summarize()). */
export function detectSequenceType (seq: Sequence, summary: SeqSummary): SequenceTypeReport {
  const trajectory = summary.trajectory
  const other = (reason: string, inversion = false): SequenceTypeReport => ({ type: 'OTHER', reason, inversion, trajectory })
  const steps = stepsOf(seq)
  const roles = classifyLargePulses(steps)
  const inversions = roles.filter((r) => r === 'inversion').length
  const inversion = inversions > 0
  const shots = imagingShots(steps, roles)
  const excitations = steps.filter((s) => 'pulse' in s && s.pulse.kind === 'excitation').length

  if (summary.adcReadouts === 0) return other('the sequence has no ADC event: it acquires nothing')
  if (excitations === 0) return other('no excitation pulse (below 150°) was found before the readouts')
  if (shots.length === 0) return other('no excitation is followed by a readout')
  if (trajectory === 'other') return other('the readouts follow a k-space path that is neither Cartesian, echo-planar, radial nor spiral', inversion)

  const refocused = shots.filter((n) => n > 0)
  if (refocused.length > 0 && refocused.length < shots.length) {
    return other(`${refocused.length} of ${shots.length} excitations are refocused by 180° pulses and the others are not: a mix of spin and gradient echoes`, inversion)
  }
  const echoTrainLength = refocused.length > 0 ? median(refocused) : undefined
  const where = TRAJECTORY_WORDS[trajectory]
  const prepared = inversion ? `an inversion pulse before the excitations (${inversions} in all), then ` : ''

  if (trajectory === 'fid') {
    if (echoTrainLength !== undefined) return other(`refocused echoes without spatial encoding (spectroscopy or a CPMG train), ${echoTrainLength} per excitation`, inversion)
    if (inversion) return { type: 'IR', reason: 'an inversion pulse before each excitation, readouts without spatial encoding (an inversion-recovery FID)', inversion, trajectory }
    return { type: 'FID', reason: `an excitation and ${summary.adcReadouts === 1 ? 'one readout' : `${summary.adcReadouts} readouts`} without spatial encoding`, inversion, trajectory }
  }
  if (trajectory === 'epi') {
    const echo = echoTrainLength === undefined ? 'gradient-echo EPI' : 'spin-echo EPI'
    return { type: 'EPI', reason: `${prepared}blipped phase encoding within one readout train per excitation (${echo})`, inversion, trajectory, ...(echoTrainLength === undefined ? {} : { echoTrainLength }) }
  }
  if (trajectory === 'ute' && echoTrainLength === undefined) {
    return { type: 'UTE', reason: `${prepared}half spokes from the k-space centre right after the excitation (ultrashort TE)`, inversion, trajectory }
  }
  if (echoTrainLength !== undefined) {
    const train = echoTrainLength > 1 ? `a train of ${echoTrainLength} refocused echoes per excitation` : 'one refocused echo per excitation'
    if (inversion) return { type: 'IR', reason: `${prepared}${train} (${where} k-space): inversion-recovery spin echo`, inversion, trajectory, echoTrainLength }
    return { type: echoTrainLength > 1 ? 'TSE' : 'SE', reason: `${train}, ${where} k-space`, inversion, trajectory, echoTrainLength }
  }
  if (inversion) return { type: 'IR', reason: `${prepared}gradient echoes (${where} k-space), as in MPRAGE`, inversion, trajectory }
  return { type: 'GRE', reason: `gradient echoes without refocusing pulses, ${where} k-space`, inversion, trajectory }
}

/** RF pulses and ADCs in the order they play (an RF in the same block as an ADC plays first). */
function stepsOf (seq: Sequence): Step[] {
  const steps: Step[] = []
  const byEvent = new Map<number, Pulse>()
  const flipByShape = new Map<string, number>()
  for (let b = 0; b < seq.blocks.length; b++) {
    const rfId = seq.blocks.rf[b]
    const rf = rfId === 0 ? undefined : seq.rf.get(rfId)
    if (rf !== undefined) {
      let pulse = byEvent.get(rfId)
      if (pulse === undefined) {
        pulse = pulseOf(seq, rf, flipByShape)
        byEvent.set(rfId, pulse)
      }
      steps.push({ pulse })
    }
    if (seq.blocks.adc[b] !== 0 && seq.adc.has(seq.blocks.adc[b])) steps.push({ adc: true })
  }
  return steps
}

function pulseOf (seq: Sequence, rf: RfEvent, flipByShape: Map<string, number>): Pulse {
  // A 1.5 file's own flag is trusted, except that "refocusing" may be an inversion (decided by position).
  if (!rf.inferred) {
    if (rf.use === 'excitation') return { kind: 'excitation', inversionFlag: false }
    if (rf.use === 'refocusing') return { kind: 'large', inversionFlag: false }
    if (rf.use === 'inversion') return { kind: 'large', inversionFlag: true }
    if (rf.use === 'saturation' || rf.use === 'preparation' || rf.use === 'other') return { kind: 'other', inversionFlag: false }
  }
  const key = `${rf.amplitude} ${rf.magShapeId} ${rf.phaseShapeId} ${rf.timeShapeId}`
  let flip = flipByShape.get(key)
  if (flip === undefined) {
    flip = rfFlipAngleDeg(seq, rf)
    flipByShape.set(key, flip)
  }
  return { kind: flip >= LARGE_PULSE_MIN_DEG ? 'large' : 'excitation', inversionFlag: false }
}

type LargeRole = 'refocusing' | 'inversion' | 'unclear'

/**
 * What each large pulse is, by its neighbours: one that follows an excitation or a refocusing pulse
 * with no readout in between is a refocusing pulse; otherwise one that an excitation follows with no
 * readout in between is an inversion; one between the echoes of a train is a refocusing pulse. Returns a role per step (undefined for steps that are not large pulses).
 */
function classifyLargePulses (steps: Step[]): Array<LargeRole | undefined> {
  const roles: Array<LargeRole | undefined> = new Array(steps.length).fill(undefined)
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]
    if (!('pulse' in step) || step.pulse.kind !== 'large') continue
    if (step.pulse.inversionFlag) { roles[i] = 'inversion'; continue }
    const previous = previousPulse(steps, i)
    const inTrain = previous !== undefined && (previous.pulse.kind === 'excitation' || roles[previous.index] === 'refocusing')
    // right after an excitation or a refocusing pulse, with no readout between (a dummy shot's train too)
    if (inTrain && !previous.adcBetween) { roles[i] = 'refocusing'; continue }
    const next = nextPulse(steps, i)
    if (next !== undefined && !next.adcBetween && next.pulse.kind === 'excitation') { roles[i] = 'inversion'; continue }
    // between the echoes of a train
    if (inTrain && roles[previous.index] === 'refocusing') { roles[i] = 'refocusing'; continue }
    roles[i] = 'unclear'
  }
  return roles
}

function nextPulse (steps: Step[], i: number): { pulse: Pulse, index: number, adcBetween: boolean } | undefined {
  let adcBetween = false
  for (let j = i + 1; j < steps.length; j++) {
    const s = steps[j]
    if ('adc' in s) adcBetween = true
    else return { pulse: s.pulse, index: j, adcBetween }
  }
  return undefined
}

function previousPulse (steps: Step[], i: number): { pulse: Pulse, index: number, adcBetween: boolean } | undefined {
  let adcBetween = false
  for (let j = i - 1; j >= 0; j--) {
    const s = steps[j]
    if ('adc' in s) adcBetween = true
    else return { pulse: s.pulse, index: j, adcBetween }
  }
  return undefined
}

/** For every excitation followed by at least one readout: the refocusing pulses before its next excitation. */
function imagingShots (steps: Step[], roles: Array<LargeRole | undefined>): number[] {
  const shots: number[] = []
  let open = false
  let refocusing = 0
  let readouts = 0
  const close = (): void => { if (open && readouts > 0) shots.push(refocusing) }
  steps.forEach((step, i) => {
    if ('adc' in step) { readouts++; return }
    if (step.pulse.kind === 'excitation') {
      close()
      open = true
      refocusing = 0
      readouts = 0
    } else if (roles[i] === 'refocusing') {
      refocusing++
    }
  })
  close()
  return shots
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}
