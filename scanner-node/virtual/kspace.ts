// The analytic Fourier transform of the phantom's ellipses and ellipsoids, at any k the sequence visits.
//
// Convention: S(k) = ∫ ρ(r) · exp(−i2π k·r) dr, k in cycles per metre, r in metres. So a sample at
// k = (m − N/2)/FOV and the inverse DFT with exp(+i2π k·r) put the object where the phantom says, with
// x along the first index. S is in m² for a planar phantom (signal per metre of slice) and m³ for a volume.
//
// Ellipse (Koay et al. MRM 2007; Guerquin-Kern et al. IEEE TMI 2012): with k′ = R(−θ)k (the k vector in
// the ellipse's own axes) and κ = √((a k′x)² + (b k′y)²),
//   S(k) = ρ·a·b·J1(2πκ)/κ · exp(−i2π k·c),   S(0) = π·a·b·ρ.
// Ellipsoid (rotated about z): K = √((a k′x)² + (b k′y)² + (c kz)²),
//   S(k) = ρ·abc·[sin(2πK) − 2πK·cos(2πK)]/(2π²K³) · exp(−i2π k·c),   S(0) = (4/3)π·abc·ρ.
// An ellipsoid cut by the faces of an excited slab has no closed form: the part inside the slab becomes
// a stack of elliptic cylinders h thick (its cross-sections at the midpoints of equal steps in z),
//   S(k) = Σ_j S_ellipse,j(kx, ky) · h·sinc(π kz h) · exp(−i2π kz z_j),
// the exact transform of that staircase, which differs from the ellipsoid only within a step of its
// surface.
import { besselJ1OverX } from './bessel.ts'
import { components, componentAmplitude } from './phantom.ts'
import type { ContrastTiming, Ellipse, Ellipsoid, Phantom } from './phantom.ts'

export interface Complex { re: number, im: number }

/**
 * A component reduced to what its transform needs: centre, semi-axes, rotation, and a slab thickness
 * for a planar ellipse seen by a 3D encoding (0 otherwise). `source` is the component it came from,
 * whose tissue weights it.
 */
export interface Shape {
  source: Ellipse | Ellipsoid
  cx: number
  cy: number
  cz: number
  a: number
  b: number
  /** 0 for an ellipse */
  c: number
  cos: number
  sin: number
  /** thickness of a planar ellipse under a 3D encoding (an elliptic cylinder centred on z = cz); 0 = no slab factor */
  slabM: number
}

/** The slab a 3D encoding's excitation selects along z (an ideal profile), and how finely to sheet what it cuts. */
export interface ExcitedSlab {
  centreM: number
  thicknessM: number
  /** largest height of the steps of an ellipsoid cut by the slab's faces */
  stepM: number
}

const TWO_PI = 2 * Math.PI
const FOUR_PI = 4 * Math.PI

/**
 * The shapes a sequence sees. `encoding` 3: every component in full (a 2D phantom becomes a slab of its
 * `heightM`), or with an excited `slab`, only what of a 3D phantom lies in it: ellipsoids inside it
 * whole, ellipsoids its faces cut as stacks of elliptic cylinders, the rest not at all (a 2D phantom ignores the slab).
 * `encoding` 2: a planar cross-section, of a 3D phantom at z = `sliceOffsetM` (an ideal thin slice, so
 * k-space is per metre of slice thickness like a 2D phantom's); a 2D phantom is the same at every z.
 */
export function shapesFor (phantom: Phantom, encoding: 2 | 3, sliceOffsetM = 0, slab?: ExcitedSlab): Shape[] {
  const shapes: Shape[] = []
  if (phantom.dimensions === 2) {
    for (const e of phantom.ellipses) {
      shapes.push({
        source: e,
        cx: e.centreM[0],
        cy: e.centreM[1],
        cz: 0,
        a: e.semiAxesM[0],
        b: e.semiAxesM[1],
        c: 0,
        cos: Math.cos(e.angleRad),
        sin: Math.sin(e.angleRad),
        slabM: encoding === 3 ? phantom.heightM : 0
      })
    }
    return shapes
  }
  for (const e of phantom.ellipsoids) {
    const base = { source: e, cx: e.centreM[0], cy: e.centreM[1], cos: Math.cos(e.angleRad), sin: Math.sin(e.angleRad), slabM: 0 }
    if (encoding === 3) {
      const bottom = e.centreM[2] - e.semiAxesM[2]
      const top = e.centreM[2] + e.semiAxesM[2]
      const lo = slab === undefined ? bottom : Math.max(bottom, slab.centreM - slab.thicknessM / 2)
      const hi = slab === undefined ? top : Math.min(top, slab.centreM + slab.thicknessM / 2)
      if (lo === bottom && hi === top) {
        shapes.push({ ...base, cz: e.centreM[2], a: e.semiAxesM[0], b: e.semiAxesM[1], c: e.semiAxesM[2] })
      } else if (hi > lo && slab !== undefined) {
        const count = Math.ceil((hi - lo) / slab.stepM)
        const h = (hi - lo) / count
        for (let j = 0; j < count; j++) {
          const z = lo + (j + 0.5) * h
          const section = crossSection(e, z)
          if (section !== undefined) shapes.push({ ...base, cz: z, a: section[0], b: section[1], c: 0, slabM: h })
        }
      }
      continue
    }
    const section = crossSection(e, sliceOffsetM)
    if (section !== undefined) shapes.push({ ...base, cz: 0, a: section[0], b: section[1], c: 0 })
  }
  return shapes
}

/** Semi-axes of the ellipse where the plane z = zM cuts the ellipsoid, or undefined if it misses it. */
export function crossSection (e: Ellipsoid, zM: number): [number, number] | undefined {
  const w = (zM - e.centreM[2]) / e.semiAxesM[2]
  const s2 = 1 - w * w
  if (!(s2 > 0)) return undefined
  const s = Math.sqrt(s2)
  return [e.semiAxesM[0] * s, e.semiAxesM[1] * s]
}

/** S(k) of a shape of unit intensity, written into `out` (which is returned). */
export function shapeKspace (shape: Shape, kx: number, ky: number, kz: number, out: Complex): Complex {
  const kxr = kx * shape.cos + ky * shape.sin
  const kyr = -kx * shape.sin + ky * shape.cos
  const ak = shape.a * kxr
  const bk = shape.b * kyr
  let magnitude: number
  let phase = -TWO_PI * (kx * shape.cx + ky * shape.cy)
  if (shape.c === 0) {
    const u = TWO_PI * Math.sqrt(ak * ak + bk * bk)
    magnitude = TWO_PI * shape.a * shape.b * besselJ1OverX(u)
    if (shape.slabM > 0) {
      magnitude *= slab(shape.slabM, kz)
      phase -= TWO_PI * kz * shape.cz
    }
  } else {
    const ck = shape.c * kz
    const u = TWO_PI * Math.sqrt(ak * ak + bk * bk + ck * ck)
    magnitude = FOUR_PI * shape.a * shape.b * shape.c * sphereProfile(u)
    phase -= TWO_PI * kz * shape.cz
  }
  out.re = magnitude * Math.cos(phase)
  out.im = magnitude * Math.sin(phase)
  return out
}

/** (sin u − u·cos u)/u³, the radial transform of a unit ball over 4π; 1/3 at u = 0. */
export function sphereProfile (u: number): number {
  const au = Math.abs(u)
  if (au < 0.05) {
    // Series 1/3 − u²/30 + u⁴/840 − u⁶/45360: the direct formula loses digits to cancellation here.
    const u2 = u * u
    return 1 / 3 - u2 / 30 + (u2 * u2) / 840 - (u2 * u2 * u2) / 45360
  }
  return (Math.sin(au) - au * Math.cos(au)) / (au * au * au)
}

/** The transform of a slab of thickness h along z, centred on z = 0: h·sinc(π kz h). */
function slab (h: number, kz: number): number {
  const x = Math.PI * kz * h
  return Math.abs(x) < 1e-8 ? h : Math.sin(x) / (Math.PI * kz)
}

/** k-space sample positions (1/m) and the time after excitation of each sample (s). */
export interface KspaceSamples {
  kx: ArrayLike<number>
  ky: ArrayLike<number>
  kz: ArrayLike<number>
  tS: ArrayLike<number>
}

export interface PhantomKspaceOptions {
  timing: ContrastTiming
  /** 2 for a planar (slice) encoding, 3 for a volume; default: the phantom's own dimensions */
  encoding?: 2 | 3
  /** z of the slice for a 2D encoding of a 3D phantom */
  sliceOffsetM?: number
  /** global frequency offset of the spins from the receiver frequency */
  offResonanceHz?: number
  /** flip-angle scale of the transmit field */
  b1Scale?: number
  /** spin echoes (timing kind SE): time from excitation of the echo the samples lie around; default TE */
  spinEchoS?: number
  /** a 3D encoding's excited slab (see shapesFor); default: the whole phantom */
  slab?: ExcitedSlab
}

/**
 * The phantom's k-space at each sample, weighted by its tissues' signals at that sample's time and
 * rotated by the off-resonance phase exp(+i2π·Δf·t): a positive Δf advances the phase, so the forward
 * DFT of an FID peaks at +Δf, and along a readout that runs towards +kx the image moves by
 * Δf/(bandwidth per pixel) pixels towards −x (the phase ramp exp(+i2π kx·d) is a shift by −d).
 * `shiftK` evaluates S(k − shift) instead, which is the k-space of the object
 * multiplied by exp(+i2π shift·r): how coil sensitivities made of plane waves enter (coils.ts).
 */
export function phantomKspace (phantom: Phantom, samples: KspaceSamples, options: PhantomKspaceOptions, shiftK: [number, number, number] = [0, 0, 0]): { re: Float64Array, im: Float64Array } {
  const encoding = options.encoding ?? phantom.dimensions
  const shapes = shapesFor(phantom, encoding, options.sliceOffsetM ?? 0, options.slab)
  const weights = sampleWeights(shapes, samples.tS, options)
  const n = samples.tS.length
  const re = new Float64Array(n)
  const im = new Float64Array(n)
  accumulateKspace(shapes, weights, samples, shiftK, re, im)
  return { re, im }
}

/**
 * Per shape and sample, the complex factor that multiplies S(k): tissue amplitude at that sample's own
 * time (so the signal decays along a readout and along an echo train) times the off-resonance phase. Laid out shape-major: [shape][sample] as re/im interleaved.
 */
export function sampleWeights (shapes: Shape[], tS: ArrayLike<number>, options: PhantomKspaceOptions): Float64Array[] {
  const n = tS.length
  const df = options.offResonanceHz ?? 0
  const b1 = options.b1Scale ?? 1
  const spinEcho = options.spinEchoS ?? options.timing.teS
  const cos = new Float64Array(n)
  const sin = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const phi = TWO_PI * df * tS[i]
    cos[i] = Math.cos(phi)
    sin[i] = Math.sin(phi)
  }
  return shapes.map((shape) => {
    const w = new Float64Array(2 * n)
    for (let i = 0; i < n; i++) {
      const amplitude = componentAmplitude(shape.source, options.timing, tS[i], b1, spinEcho)
      w[2 * i] = amplitude * cos[i]
      w[2 * i + 1] = amplitude * sin[i]
    }
    return w
  })
}

/** re/im += Σ_shapes weight·S_shape(k − shift), sample by sample. */
export function accumulateKspace (shapes: Shape[], weights: Float64Array[], samples: Omit<KspaceSamples, 'tS'>, shiftK: [number, number, number], re: Float64Array, im: Float64Array): void {
  const out: Complex = { re: 0, im: 0 }
  const n = re.length
  for (let s = 0; s < shapes.length; s++) {
    const shape = shapes[s]
    const w = weights[s]
    for (let i = 0; i < n; i++) {
      const wr = w[2 * i]
      const wi = w[2 * i + 1]
      if (wr === 0 && wi === 0) continue
      shapeKspace(shape, samples.kx[i] - shiftK[0], samples.ky[i] - shiftK[1], samples.kz[i] - shiftK[2], out)
      re[i] += wr * out.re - wi * out.im
      im[i] += wr * out.im + wi * out.re
    }
  }
}

/** Total signal of the phantom at k = 0 (t = TE, no off-resonance): its weighted area (2D) or volume (3D). */
export function phantomDc (phantom: Phantom, timing: ContrastTiming): number {
  let sum = 0
  for (const e of components(phantom)) {
    const amplitude = componentAmplitude(e, timing, timing.teS)
    const [a, b] = e.semiAxesM
    sum += amplitude * (e.semiAxesM.length === 3 ? (4 / 3) * Math.PI * a * b * (e as Ellipsoid).semiAxesM[2] : Math.PI * a * b)
  }
  return sum
}
