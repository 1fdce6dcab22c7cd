// Constants of the Pulseq format (pulseq/pulseq doc/specification.tex, revisions 1.2.0 to 1.5.1) and
// the limits this reader enforces on untrusted files.

import type { Rasters } from './types.ts'

/**
 * Rasters assumed for files older than 1.4.0, which do not declare them: the Siemens values that the
 * MATLAB and Python toolboxes of that time used as defaults (specification 1.4.0 made them required).
 */
export const LEGACY_RASTERS: Readonly<Rasters> = Object.freeze({
  gradient: 10e-6,
  rf: 1e-6,
  adc: 100e-9,
  blockDuration: 10e-6
})

/** The [DEFINITIONS] keys of the rasters, required from 1.4.0. */
export const RASTER_DEFINITIONS = Object.freeze({
  gradient: 'GradientRasterTime',
  rf: 'RadiofrequencyRasterTime',
  adc: 'AdcRasterTime',
  blockDuration: 'BlockDurationRaster'
} as const)

/** The version this package writes. */
export const WRITE_VERSION = Object.freeze({ major: 1, minor: 5, revision: 0 })

/**
 * Labels of the LABELSET/LABELINC extensions known to the MATLAB toolbox (getSupportedLabels) and
 * the specification: counters first, then flags. NOSCL is the toolbox's spelling of the NOSLC flag.
 */
export const KNOWN_LABELS = Object.freeze([
  'SLC', 'SEG', 'REP', 'AVG', 'SET', 'ECO', 'PHS', 'LIN', 'PAR', 'ACQ',
  'NAV', 'REV', 'SMS', 'REF', 'IMA', 'OFF', 'NOISE', 'PMC', 'NOROT', 'NOPOS', 'NOSCL', 'NOSLC', 'ONCE', 'TRID'
] as const)

/** The RF `use` initials of 1.5 and the words they stand for. */
export const RF_USE_BY_INITIAL = Object.freeze({
  e: 'excitation',
  r: 'refocusing',
  i: 'inversion',
  s: 'saturation',
  p: 'preparation',
  o: 'other',
  u: 'undefined'
} as const)

/**
 * Before 1.5 the file does not say what an RF pulse is for. Like the MATLAB (detectRFuse) and Python
 * (detect_rf_use) readers, a pulse of more than 90° (plus rounding slack) is taken as refocusing and
 * anything else as excitation. An inversion pulse is then seen as refocusing, which only matters for
 * samples acquired between it and the next excitation.
 */
export const REFOCUSING_MIN_FLIP_DEG = 90.01

/** Limits on what an untrusted file may make us allocate; all can be changed per call. */
export const DEFAULT_LIMITS = Object.freeze({
  /** Longest line accepted, in characters. */
  maxLineLength: 1 << 20,
  /** Blocks in one file. */
  maxBlocks: 10_000_000,
  /** Events of one kind (RF, gradients, ADC, each extension table). */
  maxEvents: 10_000_000,
  /** Samples of one decompressed shape. */
  maxShapeSamples: 10_000_000,
  /** Samples of all decompressed shapes together (160 MB as Float64). */
  maxTotalShapeSamples: 20_000_000,
  /** Samples of one ADC event. */
  maxAdcSamples: 10_000_000
})

export type ParseLimits = { -readonly [K in keyof typeof DEFAULT_LIMITS]: number }

/** Gyromagnetic ratio of 1H over 2π, Hz/T (CODATA 2018), for converting hardware limits. */
export const GAMMA_1H_HZ_PER_T = 42.577478518e6
