// Numeric helpers shared by the tests of recon-node/fft, recon-node/stages and recon-node/pipeline.

/** A deterministic pseudo-random generator (mulberry32), so that failures reproduce. */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Standard normal samples (Box-Muller) from a seeded generator. */
export function gaussian (random: () => number): () => number {
  return () => {
    const u = 1 - random()
    const v = random()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }
}

/** n complex values, re and im uniform in [-1, 1). */
export function randomComplex (n: number, seed: number): Float32Array {
  const random = seededRandom(seed)
  const out = new Float32Array(2 * n)
  for (let i = 0; i < out.length; i++) out[i] = 2 * random() - 1
  return out
}

type Numbers = ArrayLike<number>

/** BART's `nrmse`: ||actual - reference|| / ||reference||. */
export function nrmse (actual: Numbers, reference: Numbers): number {
  if (actual.length !== reference.length) throw new Error(`length ${actual.length} != ${reference.length}`)
  let num = 0
  let den = 0
  for (let i = 0; i < reference.length; i++) {
    const d = actual[i] - reference[i]
    num += d * d
    den += reference[i] * reference[i]
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den)
}

/** The real scale s minimising ||s actual - reference|| (BART's `nrmse -s` for real data). */
export function leastSquaresScale (actual: Numbers, reference: Numbers): number {
  let num = 0
  let den = 0
  for (let i = 0; i < reference.length; i++) {
    num += actual[i] * reference[i]
    den += actual[i] * actual[i]
  }
  return den === 0 ? 1 : num / den
}

/** nrmse after the least-squares scale. */
export function scaledNrmse (actual: Numbers, reference: Numbers): number {
  const s = leastSquaresScale(actual, reference)
  return nrmse(Array.from(actual, (v) => v * s), reference)
}
