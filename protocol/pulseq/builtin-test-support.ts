// Checks shared by the tests of the built-in sequences: the file round trip, the hardware limits and
// rasters on the default system, gradient continuity between blocks, and k-space helpers.

import { expect } from 'vitest'
import { DEFAULT_SYSTEM } from './design.ts'
import type { SystemLimits } from './design.ts'
import { blockEventsEnd, PointBuffer, gradientCorners } from './events.ts'
import { adcReadouts, type AdcReadout } from './kspace.ts'
import { parseSeq } from './parse.ts'
import { rfPulses } from './interpret.ts'
import type { Sequence } from './types.ts'
import { writeSeq } from './write.ts'

const onRaster = (t: number, raster: number): boolean => Math.abs(t / raster - Math.round(t / raster)) < 1e-6

/** The sequence as a reader sees it: written to text and parsed back, with the block count kept. */
export function roundTrip (seq: Sequence): Sequence {
  const back = parseSeq(writeSeq(seq))
  expect(back.blocks.length).toBe(seq.blocks.length)
  expect(back.warnings).toEqual([])
  let a = 0
  let b = 0
  for (let i = 0; i < seq.blocks.length; i++) {
    a += seq.blocks.duration[i]
    b += back.blocks.duration[i]
  }
  expect(b).toBeCloseTo(a, 9)
  return back
}

/** Hardware and raster rules: amplitude, slew (within and between blocks), dead times, block ends. */
export function expectPhysical (seq: Sequence, sys: SystemLimits = DEFAULT_SYSTEM): void {
  const tol = 1 + 1e-6
  const dt = seq.rasters.gradient
  for (let b = 0; b < seq.blocks.length; b++) {
    expect(onRaster(seq.blocks.duration[b], seq.rasters.blockDuration)).toBe(true)
    expect(blockEventsEnd(seq, b)).toBeLessThanOrEqual(seq.blocks.duration[b] + 1e-9)
  }
  for (const g of seq.gradients.values()) {
    expect(onRaster(g.delay, dt)).toBe(true)
    if (g.type === 'trap') {
      for (const t of [g.rise, g.flat, g.fall]) expect(onRaster(t, dt)).toBe(true)
      expect(Math.abs(g.amplitude)).toBeLessThanOrEqual(sys.maxGrad * tol)
      expect(Math.abs(g.amplitude) / g.rise).toBeLessThanOrEqual(sys.maxSlew * tol)
      expect(Math.abs(g.amplitude) / g.fall).toBeLessThanOrEqual(sys.maxSlew * tol)
    } else {
      const pts = new PointBuffer()
      gradientCorners(seq, g, 0, pts)
      for (let i = 0; i < pts.length; i++) expect(Math.abs(pts.v[i])).toBeLessThanOrEqual(sys.maxGrad * tol)
      for (let i = 1; i < pts.length; i++) {
        const slew = Math.abs(pts.v[i] - pts.v[i - 1]) / (pts.t[i] - pts.t[i - 1])
        expect(slew).toBeLessThanOrEqual(sys.maxSlew * tol)
      }
    }
  }
  // A gradient that does not end at 0 must continue in the next block with the same value, at its start.
  const cols = [seq.blocks.gx, seq.blocks.gy, seq.blocks.gz]
  for (const col of cols) {
    for (let b = 0; b < seq.blocks.length; b++) {
      const g = seq.gradients.get(col[b])
      const next = b + 1 < seq.blocks.length ? seq.gradients.get(col[b + 1]) : undefined
      const last = g?.type === 'arbitrary' ? g.last : 0
      const first = next?.type === 'arbitrary' ? next.first : 0
      expect(Math.abs(last - first)).toBeLessThanOrEqual(1e-6 * sys.maxGrad)
      if (g?.type === 'arbitrary' && g.last !== 0) {
        const pts = new PointBuffer()
        gradientCorners(seq, g, 0, pts)
        expect(pts.t[pts.length - 1]).toBeCloseTo(seq.blocks.duration[b], 9)
      }
      if (next?.type === 'arbitrary' && next.first !== 0) expect(next.delay).toBe(0)
    }
  }
  for (const rf of seq.rf.values()) {
    expect(rf.delay).toBeGreaterThanOrEqual(sys.rfDeadTime - 1e-12)
    expect(onRaster(rf.delay, seq.rasters.rf)).toBe(true)
  }
  for (const adc of seq.adc.values()) {
    expect(onRaster(adc.dwell, seq.rasters.adc)).toBe(true)
    expect(onRaster(adc.delay, 1e-6)).toBe(true)
  }
}

/** Readouts other than noise readouts. */
export function imagingReadouts (seq: Sequence): AdcReadout[] {
  return [...adcReadouts(seq)].filter((r) => !Number.isNaN(r.excitation) && (r.labels.NOISE ?? 0) === 0)
}

/** Sum of the block durations, s. */
export function totalDuration (seq: Sequence): number {
  let t = 0
  for (let b = 0; b < seq.blocks.length; b++) t += seq.blocks.duration[b]
  return t
}

/** Centres of the excitation pulses, s from the sequence start. */
export function excitationCentres (seq: Sequence): number[] {
  return [...rfPulses(seq)].filter((p) => p.use === 'excitation').map((p) => p.center)
}

/** Time of sample n of a readout from the sequence start, s. */
export function sampleTime (r: AdcReadout, n: number): number {
  return r.start + (n + 0.5) * r.dwell
}

/** Whether a readout carries no labels at all (all zero), as a label-free sequence must. */
export function unlabelled (r: AdcReadout): boolean {
  return Object.values(r.labels).every((v) => v === 0)
}

/** A sequence built without labels has no label extension at all. */
export function expectNoLabels (seq: Sequence): void {
  expect(seq.extensions.list.size).toBe(0)
  expect(seq.extensions.tables.size).toBe(0)
  expect(writeSeq(seq)).not.toMatch(/LABEL/)
}
