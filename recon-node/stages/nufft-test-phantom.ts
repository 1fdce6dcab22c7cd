// Test support for the nufft stage: objects whose Fourier transform is known in closed form (ellipses,
// Gaussian blobs), 2-D trajectories (radial, golden-angle, centre-out half-spokes, spirals), and the
// acquisitions a scanner would record of them, in ISMRMRD's normalised trajectory units. Coordinates are
// in pixels of the N x N image (x = i − floor(N/2)); k in cycles per pixel, ±0.5 at the matrix edge.
import type { Acquisition } from '../../protocol/mrd/types.ts'
import { flagsOf, LAST_IN_SLICE } from './flags.ts'
import { makeAcquisition } from './test-acquisitions.ts'

/**
 * Bessel J1 by the polynomial approximations of Abramowitz and Stegun 9.4.4 (|x| ≤ 3) and 9.4.6
 * (x ≥ 3), absolute error below 1e-7 (checked in the tests against Bessel's integral).
 */
export function besselJ1 (x: number): number {
  const ax = Math.abs(x)
  if (ax <= 3) {
    const t = (x / 3) ** 2
    return x * (0.5 + t * (-0.56249985 + t * (0.21093573 + t * (-0.03954289 + t * (0.00443319 + t * (-0.00031761 + t * 0.00001109))))))
  }
  const t = 3 / ax
  const f = 0.79788456 + t * (0.00000156 + t * (0.01659667 + t * (0.00017105 + t * (-0.00249511 + t * (0.00113653 - t * 0.00020033)))))
  const theta = ax - 2.35619449 + t * (0.12499612 + t * (0.0000565 + t * (-0.00637879 + t * (0.00074348 + t * (0.00079824 - t * 0.00029166)))))
  const j = f * Math.cos(theta) / Math.sqrt(ax)
  return x < 0 ? -j : j
}

/** A uniform ellipse: centre, semi-axes (pixels), rotation (radians) and value. */
export interface Ellipse { kind: 'ellipse', cx: number, cy: number, a: number, b: number, angle: number, value: number }
/** A Gaussian blob exp(−r²/2s²) times value. */
export interface Blob { kind: 'blob', cx: number, cy: number, sigma: number, value: number }
export type Shape = Ellipse | Blob

/** A phantom of ellipses and blobs that is not symmetric (a flipped or transposed image does not match). */
export function testPhantom (n: number): Shape[] {
  return [
    { kind: 'ellipse', cx: 0.02 * n, cy: -0.03 * n, a: 0.34 * n, b: 0.26 * n, angle: 0.3, value: 1 },
    { kind: 'ellipse', cx: 0.12 * n, cy: 0.05 * n, a: 0.1 * n, b: 0.05 * n, angle: -0.5, value: 0.6 },
    { kind: 'ellipse', cx: -0.15 * n, cy: -0.1 * n, a: 0.06 * n, b: 0.09 * n, angle: 0, value: -0.4 },
    { kind: 'blob', cx: -0.05 * n, cy: 0.15 * n, sigma: 0.04 * n, value: 0.8 }
  ]
}

/** The object's value at pixel (x, y) (centred pixel coordinates). */
export function phantomValue (shapes: Shape[], x: number, y: number): number {
  let v = 0
  for (const s of shapes) {
    const dx = x - s.cx
    const dy = y - s.cy
    if (s.kind === 'blob') {
      v += s.value * Math.exp(-(dx * dx + dy * dy) / (2 * s.sigma * s.sigma))
      continue
    }
    const u = dx * Math.cos(s.angle) + dy * Math.sin(s.angle)
    const w = -dx * Math.sin(s.angle) + dy * Math.cos(s.angle)
    if ((u / s.a) ** 2 + (w / s.b) ** 2 <= 1) v += s.value
  }
  return v
}

/**
 * The object's continuous Fourier transform ∫ρ(x) exp(−i2πk·x) dx at (kx, ky), cycles per pixel:
 * an ellipse gives value·a·b·J1(2πq)/q (q = |(a·k_u, b·k_v)|, π·a·b·value at q = 0), a blob
 * value·2πs²·exp(−2π²s²|k|²); each shifted by exp(−i2πk·c).
 */
export function phantomKspace (shapes: Shape[], kx: number, ky: number): [number, number] {
  let re = 0
  let im = 0
  for (const s of shapes) {
    let m: number
    if (s.kind === 'blob') m = s.value * 2 * Math.PI * s.sigma ** 2 * Math.exp(-2 * Math.PI ** 2 * s.sigma ** 2 * (kx * kx + ky * ky))
    else {
      const ku = kx * Math.cos(s.angle) + ky * Math.sin(s.angle)
      const kv = -kx * Math.sin(s.angle) + ky * Math.cos(s.angle)
      const q = Math.hypot(s.a * ku, s.b * kv)
      m = s.value * s.a * s.b * (q < 1e-9 ? Math.PI : besselJ1(2 * Math.PI * q) / q)
    }
    const phase = -2 * Math.PI * (kx * s.cx + ky * s.cy)
    re += m * Math.cos(phase)
    im += m * Math.sin(phase)
  }
  return [re, im]
}

/**
 * Coil c's sensitivity, amplitude · exp(i2π f·x): smooth, different per coil, and with a transform as
 * simple as a shift (the coil's k-space is the object's at k − f).
 */
export interface Coil { amplitude: number, fx: number, fy: number }

export function testCoils (count: number): Coil[] {
  return Array.from({ length: count }, (_, c) => ({
    amplitude: 1 + 0.25 * c,
    fx: 0.01 * Math.cos(2 * Math.PI * c / count),
    fy: 0.01 * Math.sin(2 * Math.PI * c / count)
  }))
}

/** One readout's k positions: kx, ky interleaved. */
export type Readout = Float32Array

/** Full-diameter spokes from −0.5 to +0.5 (sample s at (s − n/2)/n), at uniform or golden angles. */
export function radialReadouts (samples: number, spokes: number, order: 'uniform' | 'golden' = 'uniform'): Readout[] {
  const golden = Math.PI * (Math.sqrt(5) - 1) / 2 // 111.25°
  return Array.from({ length: spokes }, (_, i) => {
    const angle = order === 'golden' ? i * golden : Math.PI * i / spokes
    const out = new Float32Array(2 * samples)
    for (let s = 0; s < samples; s++) {
      const r = (s - samples / 2) / samples
      out[2 * s] = r * Math.cos(angle)
      out[2 * s + 1] = r * Math.sin(angle)
    }
    return out
  })
}

/** Centre-out half-spokes (UTE): from 0 to just under 0.5, at uniform angles over the full circle. */
export function halfSpokeReadouts (samples: number, spokes: number): Readout[] {
  return Array.from({ length: spokes }, (_, i) => {
    const angle = 2 * Math.PI * i / spokes
    const out = new Float32Array(2 * samples)
    for (let s = 0; s < samples; s++) {
      const r = 0.5 * s / samples
      out[2 * s] = r * Math.cos(angle)
      out[2 * s + 1] = r * Math.sin(angle)
    }
    return out
  })
}

/** Archimedean spiral interleaves out to 0.5, `turns` turns each, rotated evenly. */
export function spiralReadouts (samples: number, interleaves: number, turns: number): Readout[] {
  return Array.from({ length: interleaves }, (_, i) => {
    const out = new Float32Array(2 * samples)
    for (let s = 0; s < samples; s++) {
      const t = s / (samples - 1)
      const angle = 2 * Math.PI * (turns * t + i / interleaves)
      out[2 * s] = 0.5 * t * Math.cos(angle)
      out[2 * s + 1] = 0.5 * t * Math.sin(angle)
    }
    return out
  })
}

/**
 * The acquisitions of the readouts: per sample the phantom's transform seen by each coil, the trajectory
 * in ISMRMRD's normalised units (trajectory_dimensions 2), LAST_IN_SLICE on the last readout.
 */
export function nonCartesianAcquisitions (readouts: Readout[], shapes: Shape[], coils: Coil[], options: { slice?: number } = {}): Acquisition[] {
  return readouts.map((traj, i) => {
    const samples = traj.length / 2
    const data = new Float32Array(2 * samples * coils.length)
    coils.forEach((coil, c) => {
      for (let s = 0; s < samples; s++) {
        const [re, im] = phantomKspace(shapes, traj[2 * s] - coil.fx, traj[2 * s + 1] - coil.fy)
        data[2 * (c * samples + s)] = coil.amplitude * re
        data[2 * (c * samples + s) + 1] = coil.amplitude * im
      }
    })
    const acq = makeAcquisition({
      samples, channels: coils.length, data, step1: i, slice: options.slice ?? 0, scanCounter: i + 1,
      flags: i === readouts.length - 1 ? flagsOf(LAST_IN_SLICE) : 0n
    })
    acq.head.trajectoryDimensions = 2
    acq.traj = traj
    return acq
  })
}
