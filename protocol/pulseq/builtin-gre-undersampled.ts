// 2D gradient echo for parallel imaging: every R-th phase-encoding line plus a fully sampled block of
// calibration (ACS) lines around the centre, in the ISMRMRD convention that GRAPPA and SENSE
// reconstructions expect. Lines are acquired once each, in ascending ky; the pattern is anchored at
// the centre line floor(Ny/2), so that line is always an image line.
//
// Labels: LIN = line index (ky = (LIN - floor(Ny/2))/FOVy). The Pulseq flags REF and IMA (the MATLAB
// toolbox's parallel-imaging flags, mapped by the Siemens interpreter to the reference-scan and
// reference-and-imaging-scan headers, ISMRMRD IS_PARALLEL_CALIBRATION and
// IS_PARALLEL_CALIBRATION_AND_IMAGING) mark the calibration lines: REF = 1 on every calibration line,
// IMA = 1 on those that are also lines of the undersampled pattern. Without labels a reader infers
// both from the ky positions: the pattern every R-th line, the contiguous block at the centre.

import { blockDuration, SequenceBuilder } from './builder.ts'
import { makeTrapezoid, systemLimits } from './design.ts'
import type { SystemLimits } from './design.ts'
import { SeqBuildError } from './errors.ts'
import type { Sequence } from './types.ts'
import { pair, cartesianReadout, echoAndRepetitionDelays, labelled, encodeArea, together, onSlice, positiveLength, rfSpoilPhase, setCommonDefinitions, slicePosition, slicePulse, wholeNumber } from './builtin-parts.ts'

export interface UndersampledGreParams {
  name?: string
  /** [Nx, Ny] of the fully sampled image, default [64, 64]. */
  matrix?: [number, number]
  /** Field of view in m, default 0.256. */
  fovM?: number | [number, number]
  /** Slice thickness in m, default 0.005. */
  sliceThicknessM?: number
  /** Slices, interleaved within TR, default 1. */
  slices?: number
  /** Distance between slice centres, default the thickness. */
  sliceSpacingM?: number
  /** Acceleration: every R-th line, 2 or 3 (or up to 8); default 2. */
  acceleration?: number
  /** Fully sampled calibration lines around the centre, default 24 (fewer if Ny is smaller). */
  calibrationLines?: number
  teS?: number
  trS?: number
  /** Default 15. */
  flipAngleDeg?: number
  readoutOversampling?: number
  readoutDurationS?: number
  rfDurationS?: number
  timeBandwidth?: number
  /** RF spoiling increment, default 117°. */
  rfSpoilingIncDeg?: number
  /** LIN, SLC, REF and IMA labels; default true. */
  labels?: boolean
  system?: Partial<SystemLimits>
}

/** The lines of the pattern: every R-th line from the centre both ways, and the calibration block. */
export function undersampledLines (ny: number, acceleration: number, calibrationLines: number): Array<{ line: number, image: boolean, calibration: boolean }> {
  const centre = Math.floor(ny / 2)
  const first = centre - Math.floor(calibrationLines / 2)
  const out = []
  for (let line = 0; line < ny; line++) {
    const image = (line - centre) % acceleration === 0
    const calibration = line >= first && line < first + calibrationLines
    if (image || calibration) out.push({ line, image, calibration })
  }
  return out
}

/** 2D RF-spoiled GRE acquiring every R-th line plus the calibration lines. */
export function greUndersampled (params: UndersampledGreParams = {}): Sequence {
  const sys = systemLimits(params.system)
  const [nx, ny] = params.matrix ?? [64, 64]
  wholeNumber('matrix Nx', nx, 2, 4096)
  wholeNumber('matrix Ny', ny, 2, 4096)
  const [fovX, fovY] = pair(params.fovM ?? 0.256)
  positiveLength('FOV', fovX)
  positiveLength('FOV', fovY)
  const thickness = positiveLength('slice thickness', params.sliceThicknessM ?? 0.005)
  const slices = wholeNumber('slices', params.slices ?? 1, 1, 1024)
  const spacing = positiveLength('slice spacing', params.sliceSpacingM ?? thickness)
  const os = wholeNumber('readout oversampling', params.readoutOversampling ?? 1, 1, 8)
  const R = wholeNumber('acceleration', params.acceleration ?? 2, 2, 8)
  const acs = wholeNumber('calibration lines', params.calibrationLines ?? Math.min(24, ny), 1, ny)
  if (acs < R) throw new SeqBuildError(`${acs} calibration lines are fewer than the acceleration ${R}; a GRAPPA kernel needs at least R contiguous lines`)
  const labels = params.labels ?? true

  const exc = slicePulse(sys, { flipAngleDeg: params.flipAngleDeg ?? 15, duration: params.rfDurationS ?? 3e-3, sliceThickness: thickness, timeBandwidth: params.timeBandwidth })
  const ro = cartesianReadout(sys, nx, fovX, os, params.readoutDurationS)
  const maxPhase = Math.max(Math.abs(encodeArea(0, ny, fovY)), Math.abs(encodeArea(ny - 1, ny, fovY)))
  const pre = together(sys, [ro.preArea, maxPhase, exc.rephaseArea])
  const gxPre = pre.make(ro.preArea)
  const gzReph = pre.make(exc.rephaseArea)
  const gzSpoilArea = 4 / thickness
  const spoil = together(sys, [ro.spoilArea, maxPhase, gzSpoilArea])
  const gxSpoil = spoil.make(ro.spoilArea)
  const gzSpoil = spoil.make(gzSpoilArea)

  const excDur = blockDuration(sys, { rf: exc.rf, gz: exc.gz })
  const roDur = blockDuration(sys, { gx: ro.gx, adc: ro.adc })
  const minTe = excDur - (exc.rf.delay + exc.rf.center) + pre.duration + ro.echo
  const { teDelay, trDelay, period } = echoAndRepetitionDelays(sys, params, minTe, (teDelay) => excDur + pre.duration + teDelay + roDur + spoil.duration, slices)

  const lines = undersampledLines(ny, R, acs)
  const b = new SequenceBuilder(sys)
  setCommonDefinitions(b, {
    name: params.name ?? 'gre_undersampled',
    fov: [fovX, fovY, thickness],
    te: minTe + teDelay,
    tr: (period + trDelay) * slices,
    sliceThickness: thickness,
    os,
    extra: { kSpaceCenterLine: Math.floor(ny / 2), kSpaceCenterSample: ro.adc.numSamples / 2, AccelerationFactor: R, CalibrationLines: acs, PhaseEncodingLines: ny }
  })
  const inc = params.rfSpoilingIncDeg ?? 117
  let excitation = 0
  for (const { line, image, calibration } of lines) {
    const ky = encodeArea(line, ny, fovY)
    const gyPre = ky === 0 ? undefined : makeTrapezoid(sys, { area: ky, duration: pre.duration })
    const gyRewind = ky === 0 ? undefined : makeTrapezoid(sys, { area: -ky, duration: spoil.duration })
    for (let s = 0; s < slices; s++) {
      const phase = rfSpoilPhase(excitation++, inc)
      b.addBlock({ rf: onSlice(exc.rf, exc.gz, slicePosition(s, slices, spacing), phase), gz: exc.gz })
      b.addBlock({ gx: gxPre, gy: gyPre, gz: gzReph, duration: pre.duration })
      if (teDelay > 0) b.addBlock({ duration: teDelay })
      b.addBlock({
        gx: ro.gx,
        adc: { ...ro.adc, phaseOffset: phase },
        ...labelled(labels, { LIN: line, SLC: s, REF: calibration ? 1 : 0, IMA: calibration && image ? 1 : 0 })
      })
      b.addBlock({ gx: gxSpoil, gy: gyRewind, gz: gzSpoil, duration: spoil.duration })
      if (trDelay > 0) b.addBlock({ duration: trDelay })
    }
  }
  return b.build()
}
