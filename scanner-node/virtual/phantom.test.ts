import { describe, expect, it } from 'vitest'
import {
  discPhantom, phantomImageAt, phantomRadiusM, ringPhantom, sheppLogan2d, sheppLogan3d, steadyStateSignal,
  tissueSignal, TISSUES, validatePhantom
} from './phantom.ts'
import type { ContrastTiming, Phantom2D } from './phantom.ts'

const WM = TISSUES.whiteMatter

describe('signal equations', () => {
  it('spoiled GRE: peaks at the Ernst angle and decays with T2*', () => {
    const trS = 0.02
    const e1 = Math.exp(-trS / WM.t1S)
    const ernst = (Math.acos(e1) * 180) / Math.PI
    const signal = (deg: number): number => steadyStateSignal(WM, { kind: 'GRE', teS: 0.003, trS, flipAngleDeg: deg })
    expect(signal(ernst)).toBeGreaterThan(signal(ernst - 1))
    expect(signal(ernst)).toBeGreaterThan(signal(ernst + 1))
    const gre: ContrastTiming = { kind: 'GRE', teS: 0.01, trS, flipAngleDeg: 15 }
    const expected = WM.pd * Math.sin(15 * Math.PI / 180) * (1 - e1) / (1 - Math.cos(15 * Math.PI / 180) * e1) * Math.exp(-0.01 / WM.t2StarS)
    expect(tissueSignal(WM, gre, gre.teS)).toBeCloseTo(expected, 15)
  })

  it('spin echo: ρ(1 − exp(−TR/T1))·exp(−TE/T2) at the echo, T2′ on either side of it', () => {
    const se: ContrastTiming = { kind: 'SE', teS: 0.08, trS: 0.5, flipAngleDeg: 90 }
    const atEcho = tissueSignal(TISSUES.csf, se, se.teS)
    expect(atEcho).toBeCloseTo(TISSUES.csf.pd * (1 - Math.exp(-0.5 / TISSUES.csf.t1S)) * Math.exp(-0.08 / TISSUES.csf.t2S), 15)
    const r2prime = 1 / TISSUES.csf.t2StarS - 1 / TISSUES.csf.t2S
    expect(tissueSignal(TISSUES.csf, se, se.teS + 0.002)).toBeCloseTo(atEcho * Math.exp(-0.002 * r2prime), 15)
    expect(tissueSignal(TISSUES.csf, se, se.teS - 0.002)).toBeCloseTo(atEcho * Math.exp(-0.002 * r2prime), 15)
  })

  it('T1 contrast: short TR makes white matter brighter than CSF; long TR and TE make CSF brighter', () => {
    const t1w: ContrastTiming = { kind: 'SE', teS: 0.012, trS: 0.5, flipAngleDeg: 90 }
    const t2w: ContrastTiming = { kind: 'SE', teS: 0.1, trS: 5, flipAngleDeg: 90 }
    expect(tissueSignal(WM, t1w, t1w.teS)).toBeGreaterThan(tissueSignal(TISSUES.csf, t1w, t1w.teS))
    expect(tissueSignal(TISSUES.csf, t2w, t2w.teS)).toBeGreaterThan(3 * tissueSignal(WM, t2w, t2w.teS))
  })

  it('inversion recovery nulls a tissue at TI = T1·ln 2 when TR ≫ T1', () => {
    const ir: ContrastTiming = { kind: 'SE', teS: 0.01, trS: 1000, flipAngleDeg: 90, tiS: TISSUES.csf.t1S * Math.LN2 }
    expect(Math.abs(steadyStateSignal(TISSUES.csf, ir))).toBeLessThan(1e-12)
    expect(steadyStateSignal(WM, ir)).toBeGreaterThan(0.5)
  })

  it('B1 scales the flip angle: a fully relaxed FID gives ρ·sin(b1·α)', () => {
    const fid: ContrastTiming = { kind: 'FID', teS: 0, trS: 1000, flipAngleDeg: 90 }
    expect(steadyStateSignal(WM, fid, 1)).toBeCloseTo(WM.pd, 12)
    expect(steadyStateSignal(WM, fid, 0.8)).toBeCloseTo(WM.pd * Math.sin(0.8 * Math.PI / 2), 12)
    expect(steadyStateSignal(WM, { ...fid, kind: 'OTHER' }, 0.5)).toBe(WM.pd)
  })
})

describe('phantoms', () => {
  const pd: ContrastTiming = { kind: 'OTHER', teS: 0, trS: 1, flipAngleDeg: 90 }

  it('Shepp-Logan regions show the tissue they stand for', () => {
    const p = sheppLogan2d({ radiusM: 0.1 })
    expect(phantomImageAt(p, 0, 0, pd)).toBeCloseTo(WM.pd, 12) // brain between the ventricles
    expect(phantomImageAt(p, 0.022, 0, pd)).toBeCloseTo(TISSUES.csf.pd, 12) // right ventricle
    expect(phantomImageAt(p, 0, 0.035, pd)).toBeCloseTo(TISSUES.greyMatter.pd, 12)
    expect(phantomImageAt(p, 0, 0.09, pd)).toBeCloseTo(TISSUES.fat.pd, 12) // rim
    expect(phantomImageAt(p, 0.09, 0.09, pd)).toBe(0)
    expect(phantomRadiusM(p)).toBeCloseTo(0.092, 12)
  })

  it('the table variant adds the table intensities, as BART and ISMRMRD draw it', () => {
    const p = sheppLogan2d({ radiusM: 1, contrast: 'table' })
    expect(phantomImageAt(p, 0, 0, pd)).toBeCloseTo(0.2, 12)
    expect(phantomImageAt(p, 0.22, 0, pd)).toBeCloseTo(0, 12)
    expect(sheppLogan3d({ radiusM: 1, contrast: 'table' }).ellipsoids[0].intensity).toBe(2)
  })

  it('ring and disc', () => {
    const ring = ringPhantom({ outerRadiusM: 0.08, innerRadiusM: 0.05 })
    expect(phantomImageAt(ring, 0.06, 0, pd)).toBeCloseTo(1, 12)
    expect(phantomImageAt(ring, 0.01, 0, pd)).toBeCloseTo(0, 12)
    const sphere = discPhantom({ radiusM: 0.05, dimensions: 3 })
    expect(phantomImageAt(sphere, 0, 0, pd, { zM: 0.04 })).toBe(1)
    expect(phantomImageAt(sphere, 0.04, 0, pd, { zM: 0.04 })).toBe(0)
  })

  it('rejects what cannot exist, with a named error', () => {
    const bad: Phantom2D = { dimensions: 2, name: 'bad', ellipses: [{ centreM: [0, 0], semiAxesM: [-1, 1], angleRad: 0 }], heightM: 1 }
    expect(() => validatePhantom(bad)).toThrow(expect.objectContaining({ name: 'InvalidPhantomError' }))
    expect(() => discPhantom({ tissue: { ...WM, t2StarS: 1 } })).toThrow(expect.objectContaining({ name: 'InvalidPhantomError' }))
    expect(() => ringPhantom({ outerRadiusM: 0.01, innerRadiusM: 0.02 })).toThrow(expect.objectContaining({ name: 'InvalidPhantomError' }))
  })
})

describe('placement and echo times', () => {
  const pd: ContrastTiming = { kind: 'OTHER', teS: 0, trS: 1, flipAngleDeg: 90 }

  it('centreM moves the whole 3D head', () => {
    const here = sheppLogan3d({ radiusM: 0.1 })
    const moved = sheppLogan3d({ radiusM: 0.1, centreM: [0.01, -0.02, 0.025] })
    for (const [x, y, z] of [[0, 0, -0.025], [0.022, 0, -0.025], [0, 0.035, 0], [0.006, -0.0105, 0.0625]]) {
      expect(phantomImageAt(moved, x + 0.01, y - 0.02, pd, { zM: z + 0.025 })).toBe(phantomImageAt(here, x, y, pd, { zM: z }))
    }
  })

  it('a spin echo decays with T2 to the echo it is told, and with T2′ around it', () => {
    const se: ContrastTiming = { kind: 'SE', teS: 0.02, trS: 2, flipAngleDeg: 90 }
    const r2prime = 1 / WM.t2StarS - 1 / WM.t2S
    const echo = 0.05
    expect(tissueSignal(WM, se, echo + 0.001, 1, echo) / tissueSignal(WM, se, se.teS)).toBeCloseTo(Math.exp(-(echo - se.teS) / WM.t2S - 0.001 * r2prime), 12)
  })
})
