// Sequence codes from header facts: each code only when the header states what it stands for.
import { describe, expect, it } from 'vitest'
import { sequenceCodesOf, type SequenceFacts } from './sequence-codes.ts'

const codes = (facts: SequenceFacts): [string, string, string] => {
  const c = sequenceCodesOf(facts)
  return [c.scanningSequence.join('\\'), c.sequenceVariant.join('\\'), c.scanOptions.join('\\')]
}

describe('sequenceCodesOf', () => {
  it.each<[string, SequenceFacts, [string, string, string]]>([
    ['spoiled gradient echo', { sequenceType: 'Flash' }, ['GR', 'SP', '']],
    ['gradient echo of unknown spoiling', { sequenceType: 'GradientEcho' }, ['GR', 'NONE', '']],
    ['balanced SSFP', { sequenceType: 'TrueFISP' }, ['GR', 'SS', '']],
    ['PSIF', { sequenceType: 'PSIF' }, ['GR', 'TRSS', '']],
    ['spin echo', { sequenceType: 'SpinEcho' }, ['SE', 'NONE', '']],
    ['turbo spin echo with an echo train', { sequenceType: 'TurboSpinEcho', echoTrainLength: 8 }, ['SE', 'SK', '']],
    ['TSE by its abbreviation', { sequenceType: 'TSE', echoTrainLength: 16 }, ['SE', 'SK', '']],
    ['EPI named by its trajectory only', { sequenceType: 'EPI', trajectory: 'epi' }, ['EP', 'SK', '']],
    ['EPI trajectory, no sequence type', { trajectory: 'epi' }, ['EP', 'SK', '']],
    ['spin-echo EPI', { sequenceType: 'SpinEcho EPI', trajectory: 'epi' }, ['SE\\EP', 'SK', '']],
    ['gradient-echo EPI', { sequenceType: 'GRE-EPI', trajectory: 'epi' }, ['GR\\EP', 'SK', '']],
    ['MPRAGE: inversion with TI, segmented', { sequenceType: 'MPRAGE', inversionTimeMs: 900, echoTrainLength: 176 }, ['GR\\IR', 'SK\\SP\\MP', '']],
    ['inversion recovery spin echo', { sequenceType: 'SpinEcho', inversionTimeMs: 150 }, ['SE\\IR', 'MP', '']],
    ['radial gradient echo', { sequenceType: 'Radial', trajectory: 'radial' }, ['GR', 'NONE', '']],
    ['radial spin echo', { sequenceType: 'RadialTSE', trajectory: 'radial', echoTrainLength: 4 }, ['SE', 'SK', '']],
    ['spiral', { sequenceType: 'Spiral', trajectory: 'spiral' }, ['GR', 'NONE', '']],
    ['radial trajectory without a sequence type', { trajectory: 'radial' }, ['RM', 'NONE', '']],
    ['a bare FID', { sequenceType: 'FID' }, ['RM', 'NONE', '']],
    ['nothing known', {}, ['RM', 'NONE', '']],
    ['phase oversampling and partial Fourier', { sequenceType: 'Flash', phaseOversampled: true, partialFourierPhase: true }, ['GR', 'SP\\OSP', 'PFP']],
    ['segmented by the segment counter', { sequenceType: 'Flash', segments: 4 }, ['GR', 'SK\\SP', '']]
  ])('%s', (_, facts, expected) => {
    expect(codes(facts)).toEqual(expected)
  })
})
