// 3D Cartesian RF-spoiled gradient echo: a slab (or the whole volume, with a hard pulse) excited each TR,
// phase encoded in y (LIN) and z (PAR), partitions outer, lines inner. Partition p has
// kz = (p - floor(Nz/2))/FOVz, the slab thickness being FOVz; line i has ky = (i - floor(Ny/2))/FOVy.
// Partial Fourier in either phase direction leaves out the first (negative-k) steps; the labels keep
// the true step numbers, so the encoding centre stays at floor(N/2).

import { blockDuration, SequenceBuilder } from './builder.ts'
import { makeBlockPulse, makeTrapezoid, systemLimits } from './design.ts'
import type { DesignRf, SystemLimits } from './design.ts'
import type { Sequence, TrapGradient } from './types.ts'
import { pair, partialFourierSteps, cartesianReadout, echoAndRepetitionDelays, labelled, encodeArea, together, positiveLength, rfSpoilPhase, setCommonDefinitions, slicePulse, wholeNumber } from './builtin-parts.ts'

export interface Gre3dParams {
  name?: string
  /** [Nx, Ny] or [Nx, Ny, Nz], default [64, 64, 8]. */
  matrix?: [number, number] | [number, number, number]
  /** Partitions Nz when the matrix has two entries, default 8. */
  partitions?: number
  /** In-plane field of view in m, default 0.256. */
  fovM?: number | [number, number]
  /** Slab thickness = FOVz in m, default 0.032 (4 mm partitions by default). */
  slabThicknessM?: number
  /** Slab-selective sinc (true, default) or a non-selective hard pulse. */
  slabSelective?: boolean
  /** Fraction of the ky steps acquired, 1 (default) or from 5/8. */
  partialFourierY?: number
  /** Fraction of the kz steps acquired, 1 (default) or from 5/8. */
  partialFourierZ?: number
  teS?: number
  trS?: number
  /** Default 10. */
  flipAngleDeg?: number
  readoutOversampling?: number
  readoutDurationS?: number
  /** RF duration, default 2 ms for the slab pulse, 0.2 ms for the hard pulse. */
  rfDurationS?: number
  timeBandwidth?: number
  rfSpoilingIncDeg?: number
  /** LIN and PAR labels, default true. */
  labels?: boolean
  system?: Partial<SystemLimits>
}

export function gre3d (params: Gre3dParams = {}): Sequence {
  const sys = systemLimits(params.system)
  const m = params.matrix ?? [64, 64]
  const nx = wholeNumber('matrix Nx', m[0], 2, 4096)
  const ny = wholeNumber('matrix Ny', m[1], 1, 4096)
  const nz = wholeNumber('partitions', m[2] ?? params.partitions ?? 8, 1, 1024)
  const [fovX, fovY] = pair(params.fovM ?? 0.256)
  positiveLength('FOV', fovX)
  positiveLength('FOV', fovY)
  const fovZ = positiveLength('slab thickness', params.slabThicknessM ?? 0.032)
  const os = wholeNumber('readout oversampling', params.readoutOversampling ?? 1, 1, 8)
  const labels = params.labels ?? true
  const selective = params.slabSelective ?? true
  const linesY = partialFourierSteps('ky', ny, params.partialFourierY ?? 1)
  const stepsZ = partialFourierSteps('kz', nz, params.partialFourierZ ?? 1)

  let rf: DesignRf
  let gzSel: TrapGradient | undefined
  let rephaseArea = 0
  if (selective) {
    const p = slicePulse(sys, { flipAngleDeg: params.flipAngleDeg ?? 10, duration: params.rfDurationS ?? 2e-3, sliceThickness: fovZ, timeBandwidth: params.timeBandwidth })
    rf = p.rf
    gzSel = p.gz
    rephaseArea = p.rephaseArea
  } else {
    rf = makeBlockPulse(sys, { flipAngleDeg: params.flipAngleDeg ?? 10, duration: params.rfDurationS ?? 0.2e-3 })
  }
  const ro = cartesianReadout(sys, nx, fovX, os, params.readoutDurationS)
  const maxY = Math.max(Math.abs(encodeArea(0, ny, fovY)), Math.abs(encodeArea(ny - 1, ny, fovY)))
  const maxZ = Math.max(Math.abs(encodeArea(0, nz, fovZ) + rephaseArea), Math.abs(encodeArea(nz - 1, nz, fovZ) + rephaseArea))
  const pre = together(sys, [ro.preArea, maxY, maxZ])
  const gxPre = pre.make(ro.preArea)
  const maxZRewind = Math.max(Math.abs(encodeArea(0, nz, fovZ)), Math.abs(encodeArea(nz - 1, nz, fovZ)))
  const spoil = together(sys, [ro.spoilArea, maxY, maxZRewind])
  const gxSpoil = spoil.make(ro.spoilArea)

  const excDur = blockDuration(sys, { rf, gz: gzSel })
  const roDur = blockDuration(sys, { gx: ro.gx, adc: ro.adc })
  const minTe = excDur - (rf.delay + rf.center) + pre.duration + ro.echo
  const { teDelay, trDelay, period } = echoAndRepetitionDelays(sys, params, minTe, (teDelay) => excDur + pre.duration + teDelay + roDur + spoil.duration)

  const b = new SequenceBuilder(sys)
  setCommonDefinitions(b, {
    name: params.name ?? 'gre3d',
    fov: [fovX, fovY, fovZ],
    te: minTe + teDelay,
    tr: period + trDelay,
    sliceThickness: fovZ / nz,
    os,
    extra: { kSpaceCenterLine: Math.floor(ny / 2), kSpaceCenterPartition: Math.floor(nz / 2), kSpaceCenterSample: ro.adc.numSamples / 2, PhaseEncodingLines: ny, Partitions: nz }
  })
  const inc = params.rfSpoilingIncDeg ?? 117
  const trap = (area: number, duration: number): TrapGradient | undefined => area === 0 ? undefined : makeTrapezoid(sys, { area, duration })
  let excitation = 0
  for (const p of stepsZ) {
    const kz = encodeArea(p, nz, fovZ)
    const gzPre = trap(kz + rephaseArea, pre.duration)
    const gzRewind = trap(-kz, spoil.duration)
    for (const i of linesY) {
      const ky = encodeArea(i, ny, fovY)
      const phase = rfSpoilPhase(excitation++, inc)
      b.addBlock({ rf: { ...rf, phaseOffset: phase }, gz: gzSel })
      b.addBlock({ gx: gxPre, gy: trap(ky, pre.duration), gz: gzPre, duration: pre.duration })
      if (teDelay > 0) b.addBlock({ duration: teDelay })
      b.addBlock({ gx: ro.gx, adc: { ...ro.adc, phaseOffset: phase }, ...labelled(labels, { LIN: i, PAR: p }) })
      b.addBlock({ gx: gxSpoil, gy: trap(-ky, spoil.duration), gz: gzRewind, duration: spoil.duration })
      if (trDelay > 0) b.addBlock({ duration: trDelay })
    }
  }
  return b.build()
}
