// Assembles a Sequence block by block from designed events, the way the toolboxes' addBlock does:
// identical events and shapes are stored once, each block lasts as long as its longest event (RF
// ringdown and ADC dead time included) rounded up to the block raster, and label directives become
// LABELSET/LABELINC extension events chained into the block's extension list.

import { KNOWN_LABELS, WRITE_VERSION } from './constants.ts'
import type { DesignRf, SystemLimits } from './design.ts'
import { ceilToRaster, trapEnd } from './design.ts'
import { SeqBuildError } from './errors.ts'
import type { AdcEvent, ArbitraryGradient, ExtensionTable, GradientEvent, LabelEvent, RfEvent, Sequence, TrapGradient } from './types.ts'

/**
 * A gradient given sample by sample (an arbitrary gradient): Hz/m at the centres of the gradient
 * raster cells, or at `times` (in gradient raster units from the gradient start, an extended
 * trapezoid's corners), with its values at the two edges (non-zero where it joins a gradient of the
 * next or previous block, as a blip split between two blocks does). Between samples the gradient is
 * linear.
 */
export interface ShapedGradient {
  type: 'shaped'
  waveform: Float64Array
  times?: Float64Array
  first: number
  last: number
  delay: number
}

export type DesignGradient = TrapGradient | ShapedGradient

export interface BlockSpec {
  rf?: DesignRf
  gx?: DesignGradient
  gy?: DesignGradient
  gz?: DesignGradient
  adc?: AdcEvent
  /** Minimum duration, s; the block is longer if an event needs it. */
  duration?: number
  /** Labels set before any ADC of the block. */
  labelSet?: Record<string, number>
  /** Labels incremented after the sets, before any ADC of the block. */
  labelInc?: Record<string, number>
}

/** Collects blocks and returns the Sequence; see writeSeq to turn it into a file. */
export class SequenceBuilder {
  readonly definitions = new Map<string, string>()
  private readonly shapes = new Map<number, Float64Array>()
  private readonly shapeIds = new Map<string, number>()
  private readonly shapeByArray = new WeakMap<Float64Array, number>()
  private readonly rf = new Map<number, RfEvent>()
  private readonly rfIds = new Map<string, number>()
  private readonly gradients = new Map<number, GradientEvent>()
  private readonly gradIds = new Map<string, number>()
  private readonly adc = new Map<number, AdcEvent>()
  private readonly adcIds = new Map<string, number>()
  private readonly labelTables = new Map<'LABELSET' | 'LABELINC', { type: number, events: Map<number, LabelEvent>, ids: Map<string, number> }>()
  private readonly extList = new Map<number, { type: number, ref: number, next: number }>()
  private readonly extListIds = new Map<string, number>()
  private readonly blocks: number[][] = []
  private readonly durations: number[] = []
  private total = 0

  constructor (readonly system: SystemLimits) {}

  /** Sets a [DEFINITIONS] entry; arrays are written space-separated. */
  setDefinition (key: string, value: string | number | ReadonlyArray<number>): void {
    const text = typeof value === 'string' ? value : typeof value === 'number' ? fmt(value) : value.map(fmt).join(' ')
    this.definitions.set(key, text)
  }

  /** Total duration of the blocks so far, s. */
  get duration (): number {
    return this.total
  }

  /** Appends a block and returns its duration, s. */
  addBlock (spec: BlockSpec): number {
    const duration = blockDuration(this.system, spec)
    const rfId = spec.rf === undefined ? 0 : this.registerRf(spec.rf)
    const grad = (g: DesignGradient | undefined): number => g === undefined ? 0 : this.registerGradient(g)
    const gx = grad(spec.gx)
    const gy = grad(spec.gy)
    const gz = grad(spec.gz)
    const adcId = spec.adc === undefined ? 0 : this.register(this.adc, this.adcIds, key(spec.adc), spec.adc)
    const ext = this.registerLabels(spec.labelSet ?? {}, spec.labelInc ?? {})
    this.blocks.push([rfId, gx, gy, gz, adcId, ext])
    this.durations.push(duration)
    this.total += duration
    return duration
  }

  build (): Sequence {
    const n = this.blocks.length
    if (n === 0) throw new SeqBuildError('a sequence needs at least one block')
    const col = (i: number): Int32Array => Int32Array.from(this.blocks, (b) => b[i])
    const tables = new Map<number, ExtensionTable>()
    for (const [name, t] of this.labelTables) {
      tables.set(t.type, name === 'LABELSET' ? { kind: 'labelset', name, events: t.events } : { kind: 'labelinc', name, events: t.events })
    }
    return {
      version: { ...WRITE_VERSION },
      definitions: new Map(this.definitions),
      rasters: { ...this.system.rasters },
      blocks: {
        length: n,
        id: Int32Array.from({ length: n }, (_, i) => i + 1),
        duration: Float64Array.from(this.durations),
        rf: col(0),
        gx: col(1),
        gy: col(2),
        gz: col(3),
        adc: col(4),
        ext: col(5)
      },
      rf: new Map(this.rf),
      gradients: new Map(this.gradients),
      adc: new Map(this.adc),
      shapes: new Map(this.shapes),
      extensions: { list: new Map(this.extList), tables },
      warnings: []
    }
  }

  private register<T> (lib: Map<number, T>, ids: Map<string, number>, k: string, value: T): number {
    const found = ids.get(k)
    if (found !== undefined) return found
    const id = lib.size + 1
    lib.set(id, value)
    ids.set(k, id)
    return id
  }

  private registerShape (samples: Float64Array): number {
    // Pulses are usually copies sharing one sample array: look it up by identity before by content.
    const known = this.shapeByArray.get(samples)
    if (known !== undefined) return known
    const id = this.register(this.shapes, this.shapeIds, Array.prototype.join.call(samples, ','), samples)
    this.shapeByArray.set(samples, id)
    return id
  }

  private registerGradient (g: DesignGradient): number {
    if (g.type === 'trap') return this.register(this.gradients, this.gradIds, key(g), g)
    // Stored as the toolboxes do: the shape normalised to a peak of 1, the peak as the amplitude.
    let peak = 0
    for (const v of g.waveform) peak = Math.max(peak, Math.abs(v))
    const amplitude = peak > 0 ? peak : 1
    const ev: ArbitraryGradient = {
      type: 'arbitrary',
      amplitude,
      first: g.first,
      last: g.last,
      shapeId: this.registerShape(g.waveform.map((v) => v / amplitude)),
      timeShapeId: g.times === undefined ? 0 : this.registerShape(g.times),
      delay: g.delay
    }
    return this.register(this.gradients, this.gradIds, key(ev), ev)
  }

  private registerRf (d: DesignRf): number {
    const ev: RfEvent = {
      amplitude: d.amplitude,
      magShapeId: this.registerShape(d.magnitude),
      phaseShapeId: this.registerShape(d.phase),
      timeShapeId: 0,
      center: d.center,
      delay: d.delay,
      freqPPM: 0,
      phasePPM: 0,
      freqOffset: d.freqOffset,
      phaseOffset: d.phaseOffset,
      use: d.use,
      inferred: false
    }
    return this.register(this.rf, this.rfIds, key(ev), ev)
  }

  private registerLabels (set: Record<string, number>, inc: Record<string, number>): number {
    const refs: Array<[number, number]> = []
    for (const [kind, labels] of [['LABELSET', set], ['LABELINC', inc]] as const) {
      for (const [label, value] of Object.entries(labels)) {
        if (!(KNOWN_LABELS as readonly string[]).includes(label)) throw new SeqBuildError(`unknown label ${label}`)
        if (!Number.isInteger(value)) throw new SeqBuildError(`label ${label} must be an integer, not ${value}`)
        let table = this.labelTables.get(kind)
        if (table === undefined) {
          table = { type: this.labelTables.size + 1, events: new Map(), ids: new Map() }
          this.labelTables.set(kind, table)
        }
        const ref = this.register(table.events, table.ids, `${value} ${label}`, { value, label })
        refs.push([table.type, ref])
      }
    }
    // The list is built from its tail, so that blocks with the same directives share one list.
    let next = 0
    for (let i = refs.length - 1; i >= 0; i--) {
      const entry = { type: refs[i][0], ref: refs[i][1], next }
      next = this.register(this.extList, this.extListIds, key(entry), entry)
    }
    return next
  }
}

/**
 * How long a block of these events lasts: its longest event, with the RF ringdown and the ADC dead
 * time, or the requested duration if longer, rounded up to the block raster.
 */
export function blockDuration (sys: SystemLimits, spec: BlockSpec): number {
  let end = 0
  if (spec.rf !== undefined) end = Math.max(end, spec.rf.delay + spec.rf.magnitude.length * sys.rasters.rf + sys.rfRingdownTime)
  for (const g of [spec.gx, spec.gy, spec.gz]) {
    if (g === undefined) continue
    end = Math.max(end, g.type === 'trap' ? trapEnd(g) : shapedEnd(sys, g))
  }
  if (spec.adc !== undefined) end = Math.max(end, spec.adc.delay + spec.adc.numSamples * spec.adc.dwell + sys.adcDeadTime)
  if (spec.duration !== undefined) {
    if (!(spec.duration >= 0)) throw new SeqBuildError(`block duration ${spec.duration} s is not a time`)
    end = Math.max(end, spec.duration)
  }
  return ceilToRaster(end, sys.rasters.blockDuration)
}

function shapedEnd (sys: SystemLimits, g: ShapedGradient): number {
  const dt = sys.rasters.gradient
  if (g.times === undefined) return g.delay + g.waveform.length * dt
  if (g.times.length !== g.waveform.length) throw new SeqBuildError(`a shaped gradient has ${g.waveform.length} samples but ${g.times.length} times`)
  return g.delay + Math.ceil(g.times[g.times.length - 1] - 1e-6) * dt
}

function key (value: object): string {
  return JSON.stringify(value)
}

function fmt (x: number): string {
  return String(Number(x.toPrecision(12)))
}
