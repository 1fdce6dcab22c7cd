// Phantoms made of ellipses (2D) or ellipsoids (3D), each carrying a tissue, and the signal each tissue
// gives under a sequence. Ellipses have closed-form Fourier transforms (kspace.ts), so the virtual scanner
// can sample k-space anywhere a sequence goes without gridding an image.
//
// Composition: a component adds its tissue's signal and removes the signal of the tissue it paints over
// (`replaces`), so a region covered by nested components shows the innermost tissue, whatever the
// contrast. Where two components of the same level overlap, the signals add (as in Shepp-Logan).
//
// Units: metres, seconds, radians. The phantom is fixed in the gradient frame of the sequence (Pulseq's
// x, y, z); the geometry given to the simulator only says where that frame is in the patient.

/** Relaxation properties of a tissue. Proton density is relative to pure water (1). */
export interface Tissue {
  name: string
  /** relative proton density, water = 1 */
  pd: number
  t1S: number
  t2S: number
  /** T2* including the reversible dephasing of a typical voxel; T2* ≤ T2 */
  t2StarS: number
}

/**
 * Approximate values at 3 T (T1, T2 of brain and blood: Stanisz et al., MRM 54:507 (2005); CSF:
 * Lu et al., JMRI 22:13 (2005); fat: Gold et al., AJR 183:343 (2004); T2* from typical brain voxels).
 * Plausible numbers for a simulator, not references for quantitative work.
 */
export const TISSUES = {
  whiteMatter: { name: 'white matter', pd: 0.69, t1S: 1.08, t2S: 0.069, t2StarS: 0.045 },
  greyMatter: { name: 'grey matter', pd: 0.8, t1S: 1.82, t2S: 0.099, t2StarS: 0.055 },
  csf: { name: 'CSF', pd: 1, t1S: 4.2, t2S: 2, t2StarS: 0.4 },
  fat: { name: 'fat', pd: 0.9, t1S: 0.38, t2S: 0.068, t2StarS: 0.035 },
  blood: { name: 'blood', pd: 0.85, t1S: 1.93, t2S: 0.275, t2StarS: 0.05 },
  lesion: { name: 'lesion', pd: 0.86, t1S: 1.5, t2S: 0.15, t2StarS: 0.08 },
  /** doped water, as in the bottles of a scanner's quality-assurance kit */
  water: { name: 'doped water', pd: 1, t1S: 0.6, t2S: 0.45, t2StarS: 0.2 }
} as const satisfies Record<string, Tissue>

interface ComponentBase {
  /** Scales the component's signal; default 1. */
  intensity?: number
  /** Whose signal the component adds. Without one, the component adds `intensity` whatever the sequence. */
  tissue?: Tissue
  /** Whose signal the component removes where it lies (the tissue it is painted over). */
  replaces?: Tissue
}

/** An ellipse: centre and semi-axes in metres, rotated counter-clockwise by `angleRad` about its centre. */
export interface Ellipse extends ComponentBase {
  centreM: [number, number]
  semiAxesM: [number, number]
  angleRad: number
}

/** An ellipsoid, rotated counter-clockwise by `angleRad` about the z axis through its centre. */
export interface Ellipsoid extends ComponentBase {
  centreM: [number, number, number]
  semiAxesM: [number, number, number]
  angleRad: number
}

/**
 * A planar phantom: a cross-section, the same at every z. Its k-space is per metre of slice
 * thickness (m²). Where a sequence encodes three dimensions, it is a slab `heightM` thick centred on z = 0.
 */
export interface Phantom2D {
  dimensions: 2
  name: string
  ellipses: Ellipse[]
  heightM: number
}

/** A volume phantom; a 2D (multi-slice) sequence sees its cross-section at the slice's z. */
export interface Phantom3D {
  dimensions: 3
  name: string
  ellipsoids: Ellipsoid[]
}

export type Phantom = Phantom2D | Phantom3D

/** Thrown for a phantom, tissue or sequence timing that cannot describe a physical object or scan. */
export class InvalidPhantomError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'InvalidPhantomError'
  }
}

/** The timing a signal model needs; the simulator's SequenceTiming fits it. */
export interface ContrastTiming {
  teS: number
  trS: number
  flipAngleDeg: number
  /** inversion time of an inversion-recovery preparation */
  tiS?: number
  kind: 'GRE' | 'SE' | 'FID' | 'OTHER'
}

// Unit-coordinate tables: x, y in [-1, 1], scaled by the phantom's radius. The modified Shepp-Logan of
// Toft (1996), as in BART (src/simu/shepplogan.c, `shepplogan_mod`) and ISMRMRD
// (utilities/ismrmrd_phantom.cpp): intensity, semi-axes, centre, angle (degrees, counter-clockwise).
type Row2 = [intensity: number, a: number, b: number, x: number, y: number, angleDeg: number]
const MODIFIED_SHEPP_LOGAN: Row2[] = [
  [1, 0.69, 0.92, 0, 0, 0],
  [-0.8, 0.6624, 0.874, 0, -0.0184, 0],
  [-0.2, 0.11, 0.31, 0.22, 0, -18],
  [-0.2, 0.16, 0.41, -0.22, 0, 18],
  [0.1, 0.21, 0.25, 0, 0.35, 0],
  [0.1, 0.046, 0.046, 0, 0.1, 0],
  [0.1, 0.046, 0.046, 0, -0.1, 0],
  [0.1, 0.046, 0.023, -0.08, -0.605, 0],
  [0.1, 0.023, 0.023, 0, -0.606, 0],
  [0.1, 0.023, 0.046, 0.06, -0.605, 0]
]

// The tissue each Shepp-Logan ellipse stands for, and the one it is painted over: the bright rim is
// scalp fat, the large ellipse brain (white matter), the two dark ellipses the ventricles, the rest
// grey matter, lesions and vessels.
const SHEPP_LOGAN_TISSUES: Array<[Tissue, Tissue | undefined]> = [
  [TISSUES.fat, undefined],
  [TISSUES.whiteMatter, TISSUES.fat],
  [TISSUES.csf, TISSUES.whiteMatter],
  [TISSUES.csf, TISSUES.whiteMatter],
  [TISSUES.greyMatter, TISSUES.whiteMatter],
  [TISSUES.lesion, TISSUES.whiteMatter],
  [TISSUES.lesion, TISSUES.whiteMatter],
  [TISSUES.blood, TISSUES.whiteMatter],
  [TISSUES.blood, TISSUES.whiteMatter],
  [TISSUES.blood, TISSUES.whiteMatter]
]

// The 3D Shepp-Logan of Koay, Sarlls and Özarslan (MRM 58:430, 2007) as BART tabulates it
// (`shepplogan3d`): intensity, semi-axes, centre, angle about z in radians.
type Row3 = [intensity: number, a: number, b: number, c: number, x: number, y: number, z: number, angleRad: number]
const SHEPP_LOGAN_3D: Row3[] = [
  [2, 0.69, 0.92, 0.9, 0, 0, 0, 0],
  [-0.8, 0.6624, 0.874, 0.88, 0, 0, 0, 0],
  [-0.2, 0.41, 0.16, 0.21, -0.22, 0, -0.25, (3 * Math.PI) / 5],
  [-0.2, 0.31, 0.11, 0.22, 0.22, 0, -0.25, (2 * Math.PI) / 5],
  [0.2, 0.21, 0.25, 0.5, 0, 0.35, -0.25, 0],
  [0.2, 0.046, 0.046, 0.046, 0, 0.1, -0.25, 0],
  [0.1, 0.046, 0.023, 0.02, -0.08, -0.65, -0.25, 0],
  [0.1, 0.046, 0.023, 0.02, 0.06, -0.65, -0.25, Math.PI / 2],
  [0.2, 0.056, 0.04, 0.1, 0.06, -0.105, 0.625, Math.PI / 2],
  [-0.2, 0.056, 0.056, 0.1, 0, 0.1, 0.625, 0]
]

const SHEPP_LOGAN_3D_TISSUES: Array<[Tissue, Tissue | undefined]> = [
  [TISSUES.fat, undefined],
  [TISSUES.whiteMatter, TISSUES.fat],
  [TISSUES.csf, TISSUES.whiteMatter],
  [TISSUES.csf, TISSUES.whiteMatter],
  [TISSUES.greyMatter, TISSUES.whiteMatter],
  [TISSUES.lesion, TISSUES.whiteMatter],
  [TISSUES.blood, TISSUES.whiteMatter],
  [TISSUES.blood, TISSUES.whiteMatter],
  [TISSUES.lesion, TISSUES.whiteMatter],
  [TISSUES.csf, TISSUES.whiteMatter]
]

export interface SheppLoganOptions {
  /** metres per unit of the table: the head spans ±0.92 of it vertically; default 0.1 (an 18 cm head) */
  radiusM?: number
  /**
   * 'tissues' (default): every ellipse carries the tissue it stands for, so the sequence sets the contrast.
   * 'table': every ellipse adds its table intensity whatever the sequence, as BART and ISMRMRD draw it.
   */
  contrast?: 'tissues' | 'table'
  /** slab thickness where a 3D sequence encodes the 2D phantom; default twice the radius */
  heightM?: number
  /** where the table's origin lies, metres [x, y, z] (2D: z ignored); default the origin */
  centreM?: [number, number, number]
}

const DEFAULT_RADIUS_M = 0.1

/** The modified Shepp-Logan head (Toft), 2D. */
export function sheppLogan2d (options: SheppLoganOptions = {}): Phantom2D {
  const r = options.radiusM ?? DEFAULT_RADIUS_M
  const table = (options.contrast ?? 'tissues') === 'table'
  const [ox, oy] = options.centreM ?? [0, 0, 0]
  const ellipses = MODIFIED_SHEPP_LOGAN.map(([intensity, a, b, x, y, deg], i): Ellipse => {
    const geometry = { centreM: [ox + x * r, oy + y * r] as [number, number], semiAxesM: [a * r, b * r] as [number, number], angleRad: (deg * Math.PI) / 180 }
    if (table) return { ...geometry, intensity }
    const [tissue, replaces] = SHEPP_LOGAN_TISSUES[i]
    return { ...geometry, tissue, replaces }
  })
  const phantom: Phantom2D = { dimensions: 2, name: 'modified Shepp-Logan', ellipses, heightM: options.heightM ?? 2 * r }
  validatePhantom(phantom)
  return phantom
}

/** The 3D Shepp-Logan head (Koay et al. 2007, BART's table). */
export function sheppLogan3d (options: Omit<SheppLoganOptions, 'heightM'> = {}): Phantom3D {
  const r = options.radiusM ?? DEFAULT_RADIUS_M
  const table = (options.contrast ?? 'tissues') === 'table'
  const [ox, oy, oz] = options.centreM ?? [0, 0, 0]
  const ellipsoids = SHEPP_LOGAN_3D.map(([intensity, a, b, c, x, y, z, angleRad], i): Ellipsoid => {
    const geometry = {
      centreM: [ox + x * r, oy + y * r, oz + z * r] as [number, number, number],
      semiAxesM: [a * r, b * r, c * r] as [number, number, number],
      angleRad
    }
    if (table) return { ...geometry, intensity }
    const [tissue, replaces] = SHEPP_LOGAN_3D_TISSUES[i]
    return { ...geometry, tissue, replaces }
  })
  const phantom: Phantom3D = { dimensions: 3, name: '3D Shepp-Logan', ellipsoids }
  validatePhantom(phantom)
  return phantom
}

/** A uniform disc (2D) or sphere (3D) of one tissue, centred at the origin: the simplest object to calibrate on. */
export function discPhantom (options: { radiusM?: number, tissue?: Tissue, dimensions?: 2 | 3, heightM?: number } = {}): Phantom {
  const r = options.radiusM ?? 0.05
  const tissue = options.tissue ?? TISSUES.water
  if ((options.dimensions ?? 2) === 3) {
    const phantom: Phantom3D = { dimensions: 3, name: 'sphere', ellipsoids: [{ centreM: [0, 0, 0], semiAxesM: [r, r, r], angleRad: 0, tissue }] }
    validatePhantom(phantom)
    return phantom
  }
  const phantom: Phantom2D = { dimensions: 2, name: 'disc', ellipses: [{ centreM: [0, 0], semiAxesM: [r, r], angleRad: 0, tissue }], heightM: options.heightM ?? 2 * r }
  validatePhantom(phantom)
  return phantom
}

/** A ring of one tissue around a core of another (default: water around empty space), 2D. */
export function ringPhantom (options: { outerRadiusM?: number, innerRadiusM?: number, ring?: Tissue, core?: Tissue, heightM?: number } = {}): Phantom2D {
  const outer = options.outerRadiusM ?? 0.075
  const inner = options.innerRadiusM ?? 0.05
  if (!(inner < outer)) throw new InvalidPhantomError(`ring: inner radius ${inner} m must be below outer radius ${outer} m`)
  const ring = options.ring ?? TISSUES.water
  const ellipses: Ellipse[] = [
    { centreM: [0, 0], semiAxesM: [outer, outer], angleRad: 0, tissue: ring },
    { centreM: [0, 0], semiAxesM: [inner, inner], angleRad: 0, tissue: options.core ?? EMPTY, replaces: ring }
  ]
  const phantom: Phantom2D = { dimensions: 2, name: 'ring', ellipses, heightM: options.heightM ?? 2 * outer }
  validatePhantom(phantom)
  return phantom
}

/** No protons: what a component paints to cut a hole. */
export const EMPTY: Tissue = { name: 'empty', pd: 0, t1S: 1, t2S: 1, t2StarS: 1 }

/** Radius (m) of the smallest origin-centred circle (in x, y) holding every component. */
export function phantomRadiusM (phantom: Phantom): number {
  let r = 0
  for (const e of components(phantom)) {
    const reach = Math.hypot(e.centreM[0], e.centreM[1]) + Math.max(e.semiAxesM[0], e.semiAxesM[1])
    if (reach > r) r = reach
  }
  return r
}

/** The components of either kind of phantom, for code that needs only what they share. */
export function components (phantom: Phantom): Array<Ellipse | Ellipsoid> {
  return phantom.dimensions === 2 ? phantom.ellipses : phantom.ellipsoids
}

/** Throws InvalidPhantomError for negative or non-finite sizes and non-physical tissues. */
export function validatePhantom (phantom: Phantom): void {
  for (const [i, e] of components(phantom).entries()) {
    for (const s of e.semiAxesM) if (!(s > 0) || !Number.isFinite(s)) throw new InvalidPhantomError(`${phantom.name}: component ${i} has semi-axis ${s}`)
    for (const c of e.centreM) if (!Number.isFinite(c)) throw new InvalidPhantomError(`${phantom.name}: component ${i} has centre ${c}`)
    for (const t of [e.tissue, e.replaces]) if (t !== undefined) validateTissue(t)
  }
  if (phantom.dimensions === 2 && !(phantom.heightM > 0)) throw new InvalidPhantomError(`${phantom.name}: height ${phantom.heightM}`)
}

function validateTissue (t: Tissue): void {
  const ok = t.pd >= 0 && t.t1S > 0 && t.t2S > 0 && t.t2StarS > 0 && t.t2StarS <= t.t2S
  if (!ok) throw new InvalidPhantomError(`tissue ${t.name}: needs pd ≥ 0, T1, T2, T2* > 0 and T2* ≤ T2`)
}

const DEG = Math.PI / 180

/**
 * Longitudinal-to-transverse signal of a tissue right after excitation (before any T2 or T2* decay),
 * relative to the fully relaxed magnetisation of water. α = b1Scale·flip, E1 = exp(−TR/T1).
 *
 * - GRE (spoiled steady state, Ernst):  ρ·sin α·(1 − E1)/(1 − cos α·E1)
 * - FID: a pulse-and-acquire repeated every TR is a spoiled GRE without encoding: the same equation
 *   (→ ρ·sin α when TR ≫ T1).
 * - SE:  ρ·sin α·sin²(β/2)·(1 − E1), β = b1Scale·180° the refocusing pulse; with ideal pulses
 *   ρ·(1 − exp(−TR/T1)) (valid for TE ≪ TR).
 * - With an inversion time TI (ideal inversion, one excitation per TR): the factor (1 − E1), or the
 *   steady state of GRE/FID, becomes Mz(TI) = 1 − 2·exp(−TI/T1) + exp(−TR/T1), times sin α (and
 *   sin²(β/2) for SE). It can be negative: magnitude images then show the tissue's null.
 * - OTHER: a sequence whose contrast is unknown: ρ, unweighted.
 */
export function steadyStateSignal (tissue: Tissue, timing: ContrastTiming, b1Scale = 1): number {
  const { pd, t1S } = tissue
  if (timing.kind === 'OTHER') return pd
  const alpha = b1Scale * timing.flipAngleDeg * DEG
  const e1 = Math.exp(-timing.trS / t1S)
  if (timing.tiS !== undefined) {
    const mz = 1 - 2 * Math.exp(-timing.tiS / t1S) + e1
    const refocus = timing.kind === 'SE' ? Math.sin((b1Scale * Math.PI) / 2) ** 2 : 1
    return pd * mz * Math.sin(alpha) * refocus
  }
  if (timing.kind === 'SE') return pd * Math.sin(alpha) * Math.sin((b1Scale * Math.PI) / 2) ** 2 * (1 - e1)
  return (pd * Math.sin(alpha) * (1 - e1)) / (1 - Math.cos(alpha) * e1)
}

/**
 * Transverse decay at time t after excitation.
 * - GRE, FID: exp(−t/T2*), t growing along an echo train (multi-echo, EPI) as along a readout.
 * - SE: exp(−t_SE/T2)·exp(−|t − t_SE|/T2′) with 1/T2′ = 1/T2* − 1/T2, t_SE the spin echo the sample
 *   lies around (`spinEchoS`, default TE): the echo refocuses the reversible part at t_SE, and the
 *   readout sees it again on either side. In a turbo spin echo each echo of the train has its own t_SE.
 * - OTHER: 1.
 * So at the centre of the echo (t = TE): GRE ρ·…·exp(−TE/T2*), SE ρ(1 − exp(−TR/T1))·exp(−TE/T2).
 */
export function transverseDecay (tissue: Tissue, timing: ContrastTiming, tS: number, spinEchoS = timing.teS): number {
  switch (timing.kind) {
    case 'OTHER':
      return 1
    case 'SE': {
      const r2prime = Math.max(0, 1 / tissue.t2StarS - 1 / tissue.t2S)
      return Math.exp(-spinEchoS / tissue.t2S - Math.abs(tS - spinEchoS) * r2prime)
    }
    default:
      return Math.exp(-Math.max(0, tS) / tissue.t2StarS)
  }
}

/** The signal of a tissue at time t after excitation: steadyStateSignal × transverseDecay. */
export function tissueSignal (tissue: Tissue, timing: ContrastTiming, tS: number, b1Scale = 1, spinEchoS = timing.teS): number {
  return steadyStateSignal(tissue, timing, b1Scale) * transverseDecay(tissue, timing, tS, spinEchoS)
}

/**
 * The real amplitude a component contributes at time t: intensity·(signal of its tissue − signal of the
 * tissue it replaces); a component without a tissue contributes its intensity, unweighted.
 */
export function componentAmplitude (component: ComponentBase, timing: ContrastTiming, tS: number, b1Scale = 1, spinEchoS = timing.teS): number {
  const intensity = component.intensity ?? 1
  const added = component.tissue === undefined ? 1 : tissueSignal(component.tissue, timing, tS, b1Scale, spinEchoS)
  const removed = component.replaces === undefined ? 0 : tissueSignal(component.replaces, timing, tS, b1Scale, spinEchoS)
  return intensity * (added - removed)
}

/**
 * The weighted image of a 2D phantom (or the plane z = `zM`, default 0, of a 3D one) at a point: the sum of the
 * amplitudes of the components that contain it, at t = TE. What a perfect reconstruction should show.
 */
export function phantomImageAt (phantom: Phantom, x: number, y: number, timing: ContrastTiming, options: { zM?: number, b1Scale?: number } = {}): number {
  const z = options.zM ?? 0
  let value = 0
  for (const e of components(phantom)) {
    const dx = x - e.centreM[0]
    const dy = y - e.centreM[1]
    const c = Math.cos(e.angleRad)
    const s = Math.sin(e.angleRad)
    const u = (dx * c + dy * s) / e.semiAxesM[0]
    const v = (-dx * s + dy * c) / e.semiAxesM[1]
    let w = 0
    if (e.centreM.length === 3) {
      const ez = e as Ellipsoid
      w = (z - ez.centreM[2]) / ez.semiAxesM[2]
    }
    if (u * u + v * v + w * w <= 1) value += componentAmplitude(e, timing, timing.teS, options.b1Scale ?? 1)
  }
  return value
}
