// 2D turbo spin echo (RARE / FSE): one 90° excitation, then a train of refocusing pulses 'refocusing'
// at the echo spacing ESP, one phase-encoded readout midway between each pair (CPMG: refocusing at 90°
// to the excitation). Between pulses kx and ky return to 0 (the readout has its own pre- and
// rewinder, the phase encoding its rewinder), and equal crushers on z flank every refocusing pulse,
// so that only the spin-echo pathway reaches the readout.
//
// The Ny lines are split into Ny/ETL shots of ETL echoes. Linear ordering: echo e of shot s acquires
// line e·shots + s, so each echo fills a band of ky and the centre band decides the effective TE.
// Centric: lines sorted by distance from the centre line floor(Ny/2), the nearest on the first echo,
// so the effective TE is one ESP. TE in [DEFINITIONS] is the effective TE (excitation centre to the
// echo of the centre line). Labels: LIN = line, SLC = slice.

import { blockDuration, SequenceBuilder } from './builder.ts'
import { ceilToRaster, makeTrapezoid, roundToRaster, systemLimits } from './design.ts'
import type { SystemLimits } from './design.ts'
import { SeqBuildError } from './errors.ts'
import type { Sequence } from './types.ts'
import {
  cartesianReadout, checkTime, encodeArea, fill, labelled, onSlice, pair, positiveLength,
  setCommonDefinitions, slicePosition, slicePulse, together, wholeNumber
} from './builtin-parts.ts'

export interface TseParams {
  name?: string
  /** [Nx, Ny], default [64, 64]; Ny must be a multiple of the echo train length. */
  matrix?: [number, number]
  /** Field of view in m, default 0.256. */
  fovM?: number | [number, number]
  /** Default 0.005. */
  sliceThicknessM?: number
  /** Default 1; slices are interleaved within TR. */
  slices?: number
  sliceSpacingM?: number
  /** Echoes per excitation, default 8. */
  echoTrainLength?: number
  /** 'linear' (default) or 'centric'. */
  ordering?: 'linear' | 'centric'
  /** Echo spacing in s; default the shortest (or the one that gives teS). */
  echoSpacingS?: number
  /** Effective TE in s (sets the echo spacing, a whole number of 2 block rasters); give this or echoSpacingS. */
  teS?: number
  /** Time between excitations of the same slice, default 2 s (or the shortest if longer). */
  trS?: number
  /** Default 90. */
  flipAngleDeg?: number
  /** Default 180. */
  refocusingFlipAngleDeg?: number
  readoutOversampling?: number
  readoutDurationS?: number
  /** Default 2.5e-3 for both pulses. */
  rfDurationS?: number
  timeBandwidth?: number
  /** LIN and SLC labels, default true. */
  labels?: boolean
  system?: Partial<SystemLimits>
}

const TSE_DEFAULT_TR = 2

/** The line each echo of each shot acquires: lines[shot][echo]. */
export function tseLineOrder (ny: number, echoTrainLength: number, ordering: 'linear' | 'centric'): number[][] {
  if (ny % echoTrainLength !== 0) throw new SeqBuildError(`Ny (${ny}) must be a multiple of the echo train length (${echoTrainLength})`)
  const shots = ny / echoTrainLength
  const centre = Math.floor(ny / 2)
  const order = Array.from({ length: ny }, (_, i) => i)
  if (ordering === 'centric') order.sort((a, b) => Math.abs(a - centre) - Math.abs(b - centre) || b - a)
  else if (ordering !== 'linear') throw new SeqBuildError(`ordering must be 'linear' or 'centric', not ${String(ordering)}`)
  return Array.from({ length: shots }, (_, s) => Array.from({ length: echoTrainLength }, (_, e) => order[e * shots + s]))
}

export function tse2d (params: TseParams = {}): Sequence {
  const sys = systemLimits(params.system)
  const raster = sys.rasters.blockDuration
  const [nx, ny] = params.matrix ?? [64, 64]
  wholeNumber('matrix Nx', nx, 2, 4096)
  wholeNumber('matrix Ny', ny, 1, 4096)
  const [fovX, fovY] = pair(params.fovM ?? 0.256)
  positiveLength('FOV', fovX)
  positiveLength('FOV', fovY)
  const thickness = positiveLength('slice thickness', params.sliceThicknessM ?? 0.005)
  const slices = wholeNumber('slices', params.slices ?? 1, 1, 1024)
  const spacing = positiveLength('slice spacing', params.sliceSpacingM ?? thickness)
  const os = wholeNumber('readout oversampling', params.readoutOversampling ?? 1, 1, 8)
  const etl = wholeNumber('echo train length', params.echoTrainLength ?? 8, 1, 512)
  const ordering = params.ordering ?? 'linear'
  const order = tseLineOrder(ny, etl, ordering)
  const centreLine = Math.floor(ny / 2)
  const centreEcho = order.map((shot) => shot.indexOf(centreLine)).find((e) => e >= 0) ?? 0
  const labels = params.labels ?? true

  const rfDuration = params.rfDurationS ?? 2.5e-3
  const exc = slicePulse(sys, { flipAngleDeg: params.flipAngleDeg ?? 90, duration: rfDuration, sliceThickness: thickness, timeBandwidth: params.timeBandwidth })
  const ref = slicePulse(sys, { flipAngleDeg: params.refocusingFlipAngleDeg ?? 180, duration: rfDuration, sliceThickness: thickness, timeBandwidth: params.timeBandwidth, use: 'refocusing' })
  const ro = cartesianReadout(sys, nx, fovX, os, params.readoutDurationS)
  const crush = 2 / thickness
  const maxPhase = Math.max(Math.abs(encodeArea(0, ny, fovY)), Math.abs(encodeArea(ny - 1, ny, fovY)))
  const gzA = makeTrapezoid(sys, { area: exc.rephaseArea + crush })
  const roArea = ro.gx.amplitude * (ro.gx.rise / 2 + ro.gx.flat + ro.gx.fall / 2)
  const rewindArea = -(roArea + ro.preArea)
  const before = together(sys, [crush, ro.preArea, maxPhase])
  const after = together(sys, [crush, rewindArea, maxPhase])
  const gzCrushB = before.make(crush)
  const gxPre = before.make(ro.preArea)
  const gzCrushD = after.make(crush)
  const gxRewind = after.make(rewindArea)

  const excDur = blockDuration(sys, { rf: exc.rf, gz: exc.gz })
  const durA = blockDuration(sys, { gz: gzA })
  const refDur = blockDuration(sys, { rf: ref.rf, gz: ref.gz })
  const roDur = blockDuration(sys, { gx: ro.gx, adc: ro.adc })
  const tcExc = exc.rf.delay + exc.rf.center
  const tcRef = ref.rf.delay + ref.rf.center
  const half1 = excDur - tcExc + durA + tcRef
  const half2 = refDur - tcRef + before.duration + ro.echo
  const half3 = roDur - ro.echo + after.duration + tcRef
  const minEsp = ceilToRaster(2 * Math.max(half1, half2, half3), 2 * raster)
  if (params.teS !== undefined && params.echoSpacingS !== undefined) throw new SeqBuildError('give the effective TE or the echo spacing, not both')
  // The spacing is a whole number of two block rasters, so that ESP/2 lies on the raster.
  const wanted = params.teS !== undefined
    ? checkTime(`TE (echo ${centreEcho + 1} of the train)`, params.teS, minEsp * (centreEcho + 1)) / (centreEcho + 1)
    : checkTime('echo spacing', params.echoSpacingS, minEsp)
  const esp = Math.max(minEsp, roundToRaster(wanted, 2 * raster))
  const halfEsp = esp / 2
  const delay0 = fill(sys, halfEsp - half1)
  const delay1 = fill(sys, halfEsp - half2)
  // The rest of the spacing, so that refocusing pulses are exactly ESP apart whatever the rounding.
  const delay2 = fill(sys, esp - (refDur + before.duration + roDur + after.duration) - delay1)
  const period = excDur + durA + delay0 + etl * (refDur + before.duration + delay1 + roDur + after.duration + delay2)
  const tr = checkTime('TR', params.trS, period * slices, TSE_DEFAULT_TR)
  const trDelay = fill(sys, tr / slices - period)

  const b = new SequenceBuilder(sys)
  setCommonDefinitions(b, {
    name: params.name ?? 'tse',
    fov: [fovX, fovY, thickness],
    te: (centreEcho + 1) * esp,
    tr: (period + trDelay) * slices,
    sliceThickness: thickness,
    os,
    extra: { EchoTrainLength: etl, EchoSpacing: esp, kSpaceCenterLine: centreLine, kSpaceCenterSample: ro.adc.numSamples / 2 }
  })
  for (const shot of order) {
    for (let s = 0; s < slices; s++) {
      const position = slicePosition(s, slices, spacing)
      b.addBlock({ rf: onSlice(exc.rf, exc.gz, position, 0), gz: exc.gz })
      b.addBlock({ gz: gzA })
      if (delay0 > 0) b.addBlock({ duration: delay0 })
      for (const line of shot) {
        const ky = encodeArea(line, ny, fovY)
        b.addBlock({ rf: onSlice(ref.rf, ref.gz, position, Math.PI / 2), gz: ref.gz })
        b.addBlock({ gx: gxPre, gy: before.make(ky), gz: gzCrushB, duration: before.duration })
        if (delay1 > 0) b.addBlock({ duration: delay1 })
        b.addBlock({ gx: ro.gx, adc: ro.adc, ...labelled(labels, { LIN: line, SLC: s }) })
        b.addBlock({ gx: gxRewind, gy: after.make(-ky), gz: gzCrushD, duration: after.duration })
        if (delay2 > 0) b.addBlock({ duration: delay2 })
      }
      if (trDelay > 0) b.addBlock({ duration: trDelay })
    }
  }
  return b.build()
}
