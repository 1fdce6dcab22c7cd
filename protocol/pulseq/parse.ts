// Reader of Pulseq text files, revisions 1.2.0 to 1.5.x (pulseq/pulseq doc/specification.tex; the
// MATLAB read.m and pypulseq read_seq.py for what older revisions meant). The file is untrusted: every
// count is checked against a limit before anything is allocated for it, every number must be finite,
// every reference must resolve, and any problem ends in a SeqParseError that names the line.

import { DEFAULT_LIMITS, LEGACY_RASTERS, RASTER_DEFINITIONS, REFOCUSING_MIN_FLIP_DEG, RF_USE_BY_INITIAL } from './constants.ts'
import type { ParseLimits } from './constants.ts'
import { SeqParseError } from './errors.ts'
import { adcEnd, blockEventsEnd, gradientEnd, rfCenterFromShape, rfEnd, rfFlipAngleDeg, rfSampleTimes, TIME_EPS } from './events.ts'
import { ExtensionListError, isKnownLabel, newExtensionTable, walkExtensionList } from './extensions.ts'
import { decompressShape, ShapeFormatError } from './shapes.ts'
import type { AdcEvent, ExtensionTable, GradientEvent, Rasters, RfEvent, RfUse, SeqVersion, Sequence, Signature } from './types.ts'

export interface ParseOptions extends Partial<ParseLimits> {
  /**
   * Refuse blocks whose events outlast the block duration (1.4+), as the specification asks of
   * interpreters. Default true.
   */
  checkTiming?: boolean
}

const MAX_ID = 0x7fffffff
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
/** Largest delay, duration or time accepted from a file, s (a day; real values are below a minute). */
const MAX_TIME = 86400

type Section =
  | 'none' | 'version' | 'definitions' | 'blocks' | 'rf' | 'gradients' | 'trap' | 'adc' | 'delays'
  | 'extensions' | 'extensionTable' | 'shapes' | 'signature'

const SECTIONS: Record<string, Section> = {
  '[VERSION]': 'version',
  '[DEFINITIONS]': 'definitions',
  '[BLOCKS]': 'blocks',
  '[RF]': 'rf',
  '[GRADIENTS]': 'gradients',
  '[TRAP]': 'trap',
  '[ADC]': 'adc',
  '[DELAYS]': 'delays',
  '[EXTENSIONS]': 'extensions',
  '[SHAPES]': 'shapes',
  '[SIGNATURE]': 'signature'
}

/** A growable Int32 or Float64 column. */
class Column<T extends Int32Array | Float64Array> {
  data: T
  constructor (private readonly make: (n: number) => T) {
    this.data = make(1024)
  }

  set (i: number, v: number): void {
    if (i >= this.data.length) {
      const bigger = this.make(this.data.length * 2)
      bigger.set(this.data)
      this.data = bigger
    }
    this.data[i] = v
  }

  trimmed (n: number): T {
    return this.data.slice(0, n) as T
  }
}

interface PendingShape {
  id: number
  line: number
  numSamples: number
  values: Float64Array
  count: number
}

/** Parses the text of a .seq file. Throws SeqParseError for anything it cannot accept. */
export function parseSeq (text: string, options: ParseOptions = {}): Sequence {
  return new Reader(text, options).read()
}

class Reader {
  private readonly limits: ParseLimits
  private readonly checkTiming: boolean
  private lineNo = 0
  private section: Section = 'none'
  private version?: SeqVersion
  private versionParts: Partial<SeqVersion> = {}
  private versionLine = 0
  private readonly definitions = new Map<string, string>()
  private readonly definitionLines = new Map<string, number>()
  private readonly rf = new Map<number, RfEvent>()
  private readonly rfLines = new Map<number, number>()
  private readonly gradients = new Map<number, GradientEvent>()
  private readonly gradLines = new Map<number, number>()
  private readonly adc = new Map<number, AdcEvent>()
  private readonly adcLines = new Map<number, number>()
  private readonly delays = new Map<number, number>()
  private readonly shapes = new Map<number, Float64Array>()
  private readonly shapeLines = new Map<number, number>()
  private totalShapeSamples = 0
  private pendingShape?: PendingShape
  private readonly extList = new Map<number, { type: number, ref: number, next: number }>()
  private readonly extListLines = new Map<number, number>()
  private readonly extTables = new Map<number, ExtensionTable>()
  private readonly extTableLines = new Map<number, number>()
  private currentTable?: ExtensionTable
  private signature: Partial<Signature> = {}
  private readonly warnings: string[] = []
  // [BLOCKS] columns; `dur` holds raster counts (1.4+) or delay IDs (before 1.4) until the end.
  private nBlocks = 0
  private readonly bId = new Column((n) => new Int32Array(n))
  private readonly bDur = new Column((n) => new Float64Array(n))
  private readonly bRf = new Column((n) => new Int32Array(n))
  private readonly bGx = new Column((n) => new Int32Array(n))
  private readonly bGy = new Column((n) => new Int32Array(n))
  private readonly bGz = new Column((n) => new Int32Array(n))
  private readonly bAdc = new Column((n) => new Int32Array(n))
  private readonly bExt = new Column((n) => new Int32Array(n))
  private readonly bLine = new Column((n) => new Int32Array(n))

  constructor (private readonly text: string, options: ParseOptions) {
    this.limits = { ...DEFAULT_LIMITS }
    for (const key of Object.keys(DEFAULT_LIMITS) as Array<keyof ParseLimits>) {
      const v = options[key]
      if (v !== undefined) this.limits[key] = v
    }
    this.checkTiming = options.checkTiming ?? true
  }

  read (): Sequence {
    if (typeof this.text !== 'string') throw new SeqParseError('input is not text')
    const text = this.text
    let pos = 0
    while (pos <= text.length) {
      let end = text.indexOf('\n', pos)
      if (end < 0) end = text.length
      this.lineNo++
      if (end - pos > this.limits.maxLineLength) {
        throw this.here(`line is longer than ${this.limits.maxLineLength} characters`)
      }
      this.line(text.slice(pos, end).trim())
      pos = end + 1
    }
    this.finishShape()
    return this.finish()
  }

  /** An error at the line being read. */
  private here (message: string): SeqParseError {
    return new SeqParseError(message, this.lineNo)
  }

  /** An error at a line remembered earlier (undefined when the problem has no single line). */
  private error (message: string, line: number | undefined): SeqParseError {
    return new SeqParseError(message, line)
  }

  private get versionText (): string {
    const v = this.version
    return v === undefined ? '?' : `${v.major}.${v.minor}.${v.revision}`
  }

  private atLeast (minor: number): boolean {
    return this.version !== undefined && this.version.minor >= minor
  }

  private line (s: string): void {
    if (s === '' || s.startsWith('#')) return
    if (s.startsWith('[')) {
      this.startSection(s)
      return
    }
    if ((this.section === 'extensions' || this.section === 'extensionTable') && /^extension\s/.test(s)) {
      this.startExtensionTable(s)
      return
    }
    switch (this.section) {
      case 'none': throw this.here(`"${clip(s)}" is outside of any section`)
      case 'version': return this.readVersionEntry(s)
      case 'definitions': return this.definitionLine(s)
      case 'blocks': return this.blockLine(s)
      case 'rf': return this.rfLine(s)
      case 'gradients': return this.gradientLine(s)
      case 'trap': return this.trapLine(s)
      case 'adc': return this.adcLine(s)
      case 'delays': return this.delayLine(s)
      case 'extensions': return this.extensionListLine(s)
      case 'extensionTable': return this.extensionTableLine(s)
      case 'shapes': return this.shapeLine(s)
      case 'signature': return this.signatureLine(s)
    }
  }

  private startSection (s: string): void {
    const section = SECTIONS[s]
    if (section === undefined || !Object.hasOwn(SECTIONS, s)) throw this.here(`unknown section ${clip(s)}`)
    this.finishShape()
    this.endVersion()
    this.currentTable = undefined
    const needsVersion = section !== 'version' && section !== 'definitions' && section !== 'signature'
    if (needsVersion && this.version === undefined) {
      throw this.here(`${s} comes before [VERSION], which decides its column layout`)
    }
    if (section === 'delays' && this.atLeast(4)) {
      throw this.here(`[DELAYS] does not exist in version ${this.versionText}; 1.4.0 replaced it by block durations`)
    }
    if (section === 'version') {
      if (this.version !== undefined) throw this.here('[VERSION] appears twice')
      this.versionLine = this.lineNo
    }
    this.section = section
  }

  private endVersion (): void {
    if (this.section !== 'version' || this.version !== undefined) return
    const { major, minor, revision } = this.versionParts
    if (major === undefined || minor === undefined) {
      throw this.error('[VERSION] must give major and minor', this.versionLine)
    }
    this.version = { major, minor, revision: revision ?? 0 }
    if (major !== 1 || minor < 2 || minor > 5) {
      throw this.error(`version ${this.versionText} is not supported (1.2.0 to 1.5.x are)`, this.versionLine)
    }
  }

  private readVersionEntry (s: string): void {
    const tok = s.split(/\s+/)
    if (tok.length !== 2) throw this.here(`[VERSION] expects "major|minor|revision <number>", got "${clip(s)}"`)
    const key = tok[0]
    if (key !== 'major' && key !== 'minor' && key !== 'revision') throw this.here(`unknown [VERSION] key "${clip(key)}"`)
    // Revisions such as "0post1" (pypulseq development builds) count as their leading number.
    const m = /^(\d{1,6})/.exec(tok[1])
    if (m === null) throw this.here(`[VERSION] ${key} "${clip(tok[1])}" is not a number`)
    this.versionParts[key] = Number(m[1])
  }

  private definitionLine (s: string): void {
    const m = /^(\S+)(?:\s+(.*))?$/.exec(s)
    if (m === null) return
    const key = m[1]
    if (this.definitions.has(key)) this.warnings.push(`line ${this.lineNo}: definition ${key} repeated; the last value counts`)
    this.definitions.set(key, (m[2] ?? '').trim())
    this.definitionLines.set(key, this.lineNo)
  }

  private signatureLine (s: string): void {
    const m = /^(\S+)\s+(\S+)/.exec(s)
    if (m === null) return
    if (m[1] === 'Type') this.signature.type = m[2]
    else if (m[1] === 'Hash') this.signature.hash = m[2]
  }

  // ---------------------------------------------------------------- numbers

  private columns (s: string, expected: number, section: string): string[] {
    const tok = s.split(/\s+/)
    if (tok.length !== expected) {
      throw this.here(`${section} row has ${tok.length} columns, expected ${expected} for version ${this.versionText}`)
    }
    return tok
  }

  private num (tok: string, what: string): number {
    if (!NUMBER.test(tok)) throw this.here(`${what} "${clip(tok)}" is not a number`)
    const v = Number(tok)
    if (!Number.isFinite(v)) throw this.here(`${what} ${clip(tok)} is out of range`)
    return v
  }

  private int (tok: string, what: string, min: number, max: number): number {
    const v = this.num(tok, what)
    if (!Number.isInteger(v)) throw this.here(`${what} ${clip(tok)} is not an integer`)
    if (v < min || v > max) throw this.here(`${what} ${clip(tok)} is outside ${min}..${max}`)
    return v
  }

  private id (tok: string, what: string): number {
    return this.int(tok, `${what} ID`, 1, MAX_ID)
  }

  private ref (tok: string, what: string): number {
    return this.int(tok, `${what} ID`, 0, MAX_ID)
  }

  /**
   * A time written in units of 1/`perSecond` s (1e6 for µs), checked to lie in [0, MAX_TIME] s.
   * Dividing keeps decimal values exact where multiplying by 1e-6 would not (100 µs → 1e-4 s).
   */
  private time (tok: string, what: string, perSecond: number): number {
    const v = this.num(tok, what) / perSecond
    if (v < 0) throw this.here(`${what} ${clip(tok)} is negative`)
    if (v > MAX_TIME) throw this.here(`${what} ${clip(tok)} is beyond ${MAX_TIME} s`)
    return v
  }

  private checkCount (map: Map<number, unknown>, what: string): void {
    if (map.size >= this.limits.maxEvents) throw this.here(`more than ${this.limits.maxEvents} ${what} events`)
  }

  // ---------------------------------------------------------------- blocks and events

  private blockLine (s: string): void {
    const legacyNoExt = this.version !== undefined && this.version.minor === 2
    const expected = legacyNoExt ? 7 : 8
    const tok = this.columns(s, expected, '[BLOCKS]')
    const i = this.nBlocks
    if (i >= this.limits.maxBlocks) throw this.here(`more than ${this.limits.maxBlocks} blocks`)
    const id = this.id(tok[0], 'block')
    if (i > 0 && id <= this.bId.data[i - 1]) {
      throw this.here(`block ID ${id} does not follow ${this.bId.data[i - 1]}; block IDs must increase`)
    }
    this.bId.set(i, id)
    // 1.4+: duration in BlockDurationRaster units; before: the ID of a [DELAYS] event.
    this.bDur.set(i, this.atLeast(4) ? this.int(tok[1], 'block duration', 0, Number.MAX_SAFE_INTEGER) : this.ref(tok[1], 'delay'))
    this.bRf.set(i, this.ref(tok[2], 'RF'))
    this.bGx.set(i, this.ref(tok[3], 'gradient'))
    this.bGy.set(i, this.ref(tok[4], 'gradient'))
    this.bGz.set(i, this.ref(tok[5], 'gradient'))
    this.bAdc.set(i, this.ref(tok[6], 'ADC'))
    this.bExt.set(i, legacyNoExt ? 0 : this.ref(tok[7], 'extension'))
    this.bLine.set(i, this.lineNo)
    this.nBlocks++
  }

  private rfLine (s: string): void {
    // 1.2/1.3: id amp mag phase delay freq phase
    // 1.4:     id amp mag phase time delay freq phase
    // 1.5:     id amp mag phase time center delay freqPPM phasePPM freq phase use
    const minor = this.version?.minor ?? 0
    const expected = minor >= 5 ? 12 : minor === 4 ? 8 : 7
    const tok = this.columns(s, expected, '[RF]')
    const id = this.id(tok[0], 'RF')
    if (this.rf.has(id)) throw this.here(`RF ID ${id} is defined twice`)
    this.checkCount(this.rf, 'RF')
    const ev: RfEvent = {
      amplitude: this.num(tok[1], 'RF amplitude'),
      magShapeId: this.id(tok[2], 'magnitude shape'),
      phaseShapeId: this.id(tok[3], 'phase shape'),
      timeShapeId: 0,
      center: 0,
      delay: 0,
      freqPPM: 0,
      phasePPM: 0,
      freqOffset: 0,
      phaseOffset: 0,
      use: 'undefined',
      inferred: true
    }
    if (minor >= 5) {
      ev.timeShapeId = this.ref(tok[4], 'time shape')
      ev.center = this.time(tok[5], 'RF center', 1e6)
      ev.delay = this.time(tok[6], 'RF delay', 1e6)
      ev.freqPPM = this.num(tok[7], 'RF freqPPM')
      ev.phasePPM = this.num(tok[8], 'RF phasePPM')
      ev.freqOffset = this.num(tok[9], 'RF frequency')
      ev.phaseOffset = this.num(tok[10], 'RF phase')
      const use = (RF_USE_BY_INITIAL as Record<string, RfUse>)[tok[11]]
      if (use === undefined || !Object.hasOwn(RF_USE_BY_INITIAL, tok[11])) {
        throw this.here(`RF use "${clip(tok[11])}" is not one of ${Object.keys(RF_USE_BY_INITIAL).join(' ')}`)
      }
      ev.use = use
      ev.inferred = false
    } else if (minor === 4) {
      ev.timeShapeId = this.ref(tok[4], 'time shape')
      ev.delay = this.time(tok[5], 'RF delay', 1e6)
      ev.freqOffset = this.num(tok[6], 'RF frequency')
      ev.phaseOffset = this.num(tok[7], 'RF phase')
    } else {
      ev.delay = this.time(tok[4], 'RF delay', 1e6)
      ev.freqOffset = this.num(tok[5], 'RF frequency')
      ev.phaseOffset = this.num(tok[6], 'RF phase')
    }
    this.rf.set(id, ev)
    this.rfLines.set(id, this.lineNo)
  }

  private gradientLine (s: string): void {
    // 1.2/1.3: id amp shape delay; 1.4: id amp shape time delay; 1.5: id amp first last shape time delay
    const minor = this.version?.minor ?? 0
    const expected = minor >= 5 ? 7 : minor === 4 ? 5 : 4
    const tok = this.columns(s, expected, '[GRADIENTS]')
    const id = this.newGradientId(tok[0])
    const g: GradientEvent = {
      type: 'arbitrary',
      amplitude: this.num(tok[1], 'gradient amplitude'),
      first: Number.NaN,
      last: Number.NaN,
      shapeId: 0,
      timeShapeId: 0,
      delay: 0
    }
    if (minor >= 5) {
      g.first = this.num(tok[2], 'gradient first')
      g.last = this.num(tok[3], 'gradient last')
      g.shapeId = this.id(tok[4], 'gradient shape')
      g.timeShapeId = this.int(tok[5], 'time shape ID', -1, MAX_ID)
      g.delay = this.time(tok[6], 'gradient delay', 1e6)
    } else if (minor === 4) {
      g.shapeId = this.id(tok[2], 'gradient shape')
      g.timeShapeId = this.ref(tok[3], 'time shape')
      g.delay = this.time(tok[4], 'gradient delay', 1e6)
    } else {
      g.shapeId = this.id(tok[2], 'gradient shape')
      g.delay = this.time(tok[3], 'gradient delay', 1e6)
    }
    this.gradients.set(id, g)
    this.gradLines.set(id, this.lineNo)
  }

  private trapLine (s: string): void {
    const tok = this.columns(s, 6, '[TRAP]')
    const id = this.newGradientId(tok[0])
    this.gradients.set(id, {
      type: 'trap',
      amplitude: this.num(tok[1], 'trapezoid amplitude'),
      rise: this.time(tok[2], 'rise time', 1e6),
      flat: this.time(tok[3], 'flat time', 1e6),
      fall: this.time(tok[4], 'fall time', 1e6),
      delay: this.time(tok[5], 'trapezoid delay', 1e6)
    })
    this.gradLines.set(id, this.lineNo)
  }

  private newGradientId (tok: string): number {
    const id = this.id(tok, 'gradient')
    if (this.gradients.has(id)) throw this.here(`gradient ID ${id} is defined twice ([GRADIENTS] and [TRAP] share one ID space)`)
    this.checkCount(this.gradients, 'gradient')
    return id
  }

  private adcLine (s: string): void {
    // before 1.5: id num dwell delay freq phase; 1.5: id num dwell delay freqPPM phasePPM freq phase phase_shape
    const v15 = this.atLeast(5)
    const tok = this.columns(s, v15 ? 9 : 6, '[ADC]')
    const id = this.id(tok[0], 'ADC')
    if (this.adc.has(id)) throw this.here(`ADC ID ${id} is defined twice`)
    this.checkCount(this.adc, 'ADC')
    const numSamples = this.int(tok[1], 'ADC sample count', 1, this.limits.maxAdcSamples)
    const dwell = this.time(tok[2], 'ADC dwell', 1e9)
    if (dwell <= 0) throw this.here('ADC dwell must be positive')
    const ev: AdcEvent = {
      numSamples,
      dwell,
      delay: this.time(tok[3], 'ADC delay', 1e6),
      freqPPM: v15 ? this.num(tok[4], 'ADC freqPPM') : 0,
      phasePPM: v15 ? this.num(tok[5], 'ADC phasePPM') : 0,
      freqOffset: this.num(tok[v15 ? 6 : 4], 'ADC frequency'),
      phaseOffset: this.num(tok[v15 ? 7 : 5], 'ADC phase'),
      phaseShapeId: v15 ? this.ref(tok[8], 'ADC phase shape') : 0
    }
    if (adcEnd(ev) > MAX_TIME) throw this.here(`ADC lasts longer than ${MAX_TIME} s`)
    this.adc.set(id, ev)
    this.adcLines.set(id, this.lineNo)
  }

  private delayLine (s: string): void {
    const tok = this.columns(s, 2, '[DELAYS]')
    const id = this.id(tok[0], 'delay')
    if (this.delays.has(id)) throw this.here(`delay ID ${id} is defined twice`)
    this.checkCount(this.delays, 'delay')
    this.delays.set(id, this.time(tok[1], 'delay', 1e6))
  }

  // ---------------------------------------------------------------- extensions

  private extensionListLine (s: string): void {
    const tok = this.columns(s, 4, '[EXTENSIONS]')
    const id = this.id(tok[0], 'extension list')
    if (this.extList.has(id)) throw this.here(`extension list ID ${id} is defined twice`)
    this.checkCount(this.extList, 'extension list')
    this.extList.set(id, { type: this.id(tok[1], 'extension type'), ref: this.id(tok[2], 'extension object'), next: this.ref(tok[3], 'next extension') })
    this.extListLines.set(id, this.lineNo)
  }

  private startExtensionTable (s: string): void {
    const tok = s.split(/\s+/)
    if (tok.length !== 3) throw this.here(`extension header must be "extension NAME type", got "${clip(s)}"`)
    const name = tok[1]
    if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) throw this.here(`extension name "${clip(name)}" is not a plain identifier`)
    const type = this.id(tok[2], 'extension type')
    if (this.extTables.has(type)) throw this.here(`extension type ${type} is declared twice`)
    if ([...this.extTables.values()].some((t) => t.name === name)) throw this.here(`extension ${name} is declared twice`)
    const table = newExtensionTable(name)
    if (table.kind === 'unknown') this.warnings.push(`line ${this.lineNo}: unknown extension ${name} kept as raw rows`)
    this.extTables.set(type, table)
    this.extTableLines.set(type, this.lineNo)
    this.currentTable = table
    this.section = 'extensionTable'
  }

  private extensionTableLine (s: string): void {
    const table = this.currentTable
    if (table === undefined) throw this.here('extension row without an extension header')
    const tok = s.split(/\s+/)
    const id = this.id(tok[0], `${table.name} event`)
    if (table.events.has(id)) throw this.here(`${table.name} event ${id} is defined twice`)
    if (table.events.size >= this.limits.maxEvents) throw this.here(`more than ${this.limits.maxEvents} ${table.name} events`)
    const where = `${table.name} row`
    switch (table.kind) {
      case 'labelset':
      case 'labelinc': {
        const t = this.columns(s, 3, where)
        const label = t[2]
        if (!/^[A-Z][A-Z0-9_]{0,31}$/.test(label)) throw this.here(`label "${clip(label)}" is not a label name`)
        if (!isKnownLabel(label)) this.warnings.push(`line ${this.lineNo}: unknown label ${label}`)
        table.events.set(id, { value: this.int(t[1], 'label value', -MAX_ID - 1, MAX_ID), label })
        return
      }
      case 'triggers': {
        const t = this.columns(s, 5, where)
        table.events.set(id, {
          triggerType: this.int(t[1], 'trigger type', 0, MAX_ID),
          channel: this.int(t[2], 'trigger channel', 0, MAX_ID),
          delay: this.time(t[3], 'trigger delay', 1e6),
          duration: this.time(t[4], 'trigger duration', 1e6)
        })
        return
      }
      case 'softDelays': {
        const t = this.columns(s, 5, where)
        const factor = this.num(t[3], 'soft delay factor')
        if (factor === 0) throw this.here('soft delay factor must not be 0')
        table.events.set(id, {
          num: this.int(t[1], 'soft delay number', 0, MAX_ID),
          offset: this.num(t[2], 'soft delay offset') / 1e6,
          factor,
          hint: t[4]
        })
        return
      }
      case 'rotations': {
        const t = this.columns(s, 5, where)
        const q: [number, number, number, number] = [this.num(t[1], 'quaternion w'), this.num(t[2], 'quaternion x'), this.num(t[3], 'quaternion y'), this.num(t[4], 'quaternion z')]
        const norm = Math.hypot(...q)
        if (Math.abs(norm - 1) > 1e-3) throw this.here(`rotation ${id} is not a unit quaternion (norm ${norm.toPrecision(6)})`)
        table.events.set(id, { quaternion: q })
        return
      }
      case 'rfShims': {
        const channels = this.int(tok[1] ?? '', 'RF shim channel count', 1, 1024)
        const t = this.columns(s, 2 + 2 * channels, where)
        const magnitudes: number[] = []
        const phases: number[] = []
        for (let c = 0; c < channels; c++) {
          magnitudes.push(this.num(t[2 + 2 * c], 'shim magnitude'))
          phases.push(this.num(t[3 + 2 * c], 'shim phase'))
        }
        table.events.set(id, { magnitudes, phases })
        return
      }
      case 'unknown':
        table.events.set(id, s.slice(tok[0].length).trim())
    }
  }

  // ---------------------------------------------------------------- shapes

  private shapeLine (s: string): void {
    const head = /^(shape_id|num_samples)\s+(\S+)$/i.exec(s)
    if (head !== null && head[1].toLowerCase() === 'shape_id') {
      this.finishShape()
      const id = this.id(head[2], 'shape')
      if (this.shapes.has(id)) throw this.here(`shape ID ${id} is defined twice`)
      this.checkCount(this.shapes, 'shape')
      this.pendingShape = { id, line: this.lineNo, numSamples: -1, values: new Float64Array(0), count: 0 }
      return
    }
    const p = this.pendingShape
    if (p === undefined) throw this.here(`"${clip(s)}" in [SHAPES] before any shape_id`)
    if (head !== null) {
      if (p.numSamples >= 0) throw this.here(`shape ${p.id} declares num_samples twice`)
      const n = this.int(head[2], `shape ${p.id} sample count`, 1, Number.MAX_SAFE_INTEGER)
      if (n > this.limits.maxShapeSamples) {
        throw this.here(`shape ${p.id} declares ${n} samples, more than the limit of ${this.limits.maxShapeSamples}`)
      }
      if (this.totalShapeSamples + n > this.limits.maxTotalShapeSamples) {
        throw this.here(`shapes hold more than ${this.limits.maxTotalShapeSamples} samples in all`)
      }
      this.totalShapeSamples += n
      p.numSamples = n
      p.values = new Float64Array(Math.min(n, 4096))
      return
    }
    if (p.numSamples < 0) throw this.here(`shape ${p.id} has samples before num_samples`)
    // A compressed shape is at most 1.5 times longer than the samples it encodes ("v v 0" per pair).
    if (p.count >= Math.ceil(1.5 * p.numSamples) + 2) {
      throw this.here(`shape ${p.id} stores more values than ${p.numSamples} samples can need`)
    }
    if (p.count === p.values.length) {
      const bigger = new Float64Array(Math.min(p.values.length * 2, Math.ceil(1.5 * p.numSamples) + 2))
      bigger.set(p.values)
      p.values = bigger
    }
    p.values[p.count++] = this.num(s, `shape ${p.id} sample`)
  }

  private finishShape (): void {
    const p = this.pendingShape
    if (p === undefined) return
    this.pendingShape = undefined
    if (p.numSamples < 0) throw this.error(`shape ${p.id} has no num_samples`, p.line)
    if (p.count === 0) throw this.error(`shape ${p.id} has no samples`, p.line)
    const data = p.values.subarray(0, p.count)
    let samples: Float64Array
    // From 1.4 a shape stored with exactly num_samples values is uncompressed; before, that length
    // could arise by chance and the data is always compressed (pypulseq read_seq).
    if (this.atLeast(4) && p.count === p.numSamples) {
      samples = data.slice()
    } else {
      try {
        samples = decompressShape(data, p.numSamples)
      } catch (e) {
        if (e instanceof ShapeFormatError) throw this.error(`shape ${p.id}: ${e.message}`, p.line)
        throw e
      }
    }
    for (let i = 0; i < samples.length; i++) {
      if (!Number.isFinite(samples[i])) throw this.error(`shape ${p.id} decompresses to a non-finite sample`, p.line)
    }
    this.shapes.set(p.id, samples)
    this.shapeLines.set(p.id, p.line)
  }

  // ---------------------------------------------------------------- after the last line

  private finish (): Sequence {
    this.endVersion()
    const version = this.version
    if (version === undefined) throw new SeqParseError('the file has no [VERSION] section')
    if (this.nBlocks === 0) throw new SeqParseError('the file has no [BLOCKS]; a sequence needs at least one block')
    const rasters = this.rasters(version)
    const n = this.nBlocks
    const seq: Sequence = {
      version,
      definitions: this.definitions,
      rasters,
      blocks: {
        length: n,
        id: this.bId.trimmed(n),
        duration: new Float64Array(n),
        rf: this.bRf.trimmed(n),
        gx: this.bGx.trimmed(n),
        gy: this.bGy.trimmed(n),
        gz: this.bGz.trimmed(n),
        adc: this.bAdc.trimmed(n),
        ext: this.bExt.trimmed(n)
      },
      rf: this.rf,
      gradients: this.gradients,
      adc: this.adc,
      shapes: this.shapes,
      extensions: { list: this.extList, tables: this.extTables },
      warnings: this.warnings
    }
    if (this.signature.type !== undefined && this.signature.hash !== undefined) {
      seq.signature = { type: this.signature.type, hash: this.signature.hash }
    }
    this.checkShapes(seq)
    this.checkExtensions()
    this.checkBlockReferences(seq)
    this.completeRf(seq)
    this.setDurations(seq)
    this.completeGradients(seq)
    this.checkRequiredExtensions(seq)
    return seq
  }

  private rasters (version: SeqVersion): Rasters {
    const r: Rasters = { ...LEGACY_RASTERS }
    for (const key of Object.keys(RASTER_DEFINITIONS) as Array<keyof Rasters>) {
      const name = RASTER_DEFINITIONS[key]
      const raw = this.definitions.get(name)
      if (raw === undefined) {
        if (version.minor >= 4) this.warnings.push(`[DEFINITIONS] lacks ${name}, required from 1.4.0; assuming ${LEGACY_RASTERS[key]} s`)
        continue
      }
      const line = this.definitionLines.get(name)
      const v = Number(raw)
      if (!NUMBER.test(raw) || !(v >= 1e-12 && v <= 1)) throw this.error(`${name} "${clip(raw)}" is not a time between 1e-12 and 1 s`, line)
      r[key] = v
    }
    return r
  }

  private checkShapes (seq: Sequence): void {
    const need = (id: number, what: string, line: number | undefined): Float64Array => {
      const s = seq.shapes.get(id)
      if (s === undefined) throw this.error(`${what} refers to shape ${id} that is not defined`, line)
      return s
    }
    const checkTimes = (t: Float64Array, what: string, line: number | undefined): void => {
      for (let i = 0; i < t.length; i++) {
        if (t[i] < 0 || (i > 0 && t[i] < t[i - 1])) throw this.error(`${what} time shape is not non-negative and non-decreasing`, line)
      }
    }
    for (const [id, rf] of seq.rf) {
      const line = this.rfLines.get(id)
      const mag = need(rf.magShapeId, `RF ${id}`, line)
      const ph = need(rf.phaseShapeId, `RF ${id}`, line)
      if (mag.length !== ph.length) throw this.error(`RF ${id}: magnitude shape has ${mag.length} samples but phase shape ${ph.length}`, line)
      if (rf.timeShapeId > 0) {
        const t = need(rf.timeShapeId, `RF ${id}`, line)
        if (t.length !== mag.length) throw this.error(`RF ${id}: time shape has ${t.length} samples but magnitude shape ${mag.length}`, line)
        checkTimes(t, `RF ${id}`, line)
      }
      if (rfEnd(seq, rf) > MAX_TIME) throw this.error(`RF ${id} lasts longer than ${MAX_TIME} s`, line)
    }
    for (const [id, g] of seq.gradients) {
      if (g.type !== 'arbitrary') continue
      const line = this.gradLines.get(id)
      const w = need(g.shapeId, `gradient ${id}`, line)
      if (g.timeShapeId > 0) {
        const t = need(g.timeShapeId, `gradient ${id}`, line)
        if (t.length !== w.length) throw this.error(`gradient ${id}: time shape has ${t.length} samples but amplitude shape ${w.length}`, line)
        checkTimes(t, `gradient ${id}`, line)
      }
      if (gradientEnd(seq, g) > MAX_TIME) throw this.error(`gradient ${id} lasts longer than ${MAX_TIME} s`, line)
    }
    for (const [id, adc] of seq.adc) {
      if (adc.phaseShapeId === 0) continue
      const line = this.adcLines.get(id)
      const s = need(adc.phaseShapeId, `ADC ${id}`, line)
      if (s.length !== adc.numSamples) throw this.error(`ADC ${id}: phase shape has ${s.length} samples for ${adc.numSamples} ADC samples`, line)
    }
  }

  private checkExtensions (): void {
    for (const [id, e] of this.extList) {
      const line = this.extListLines.get(id)
      const table = this.extTables.get(e.type)
      if (table === undefined) throw this.error(`extension list entry ${id} has type ${e.type}, which no "extension NAME ${e.type}" table declares`, line)
      if (!table.events.has(e.ref)) throw this.error(`extension list entry ${id} refers to ${table.name} event ${e.ref} that is not defined`, line)
      if (e.next !== 0 && !this.extList.has(e.next)) throw this.error(`extension list entry ${id} continues with entry ${e.next} that is not defined`, line)
    }
    // Every list head used by a block is walked in checkBlockReferences, which also catches loops.
  }

  private checkBlockReferences (seq: Sequence): void {
    const bl = seq.blocks
    const lines = this.bLine.data
    const legacy = seq.version.minor < 4
    const checkedHeads = new Set<number>()
    for (let b = 0; b < bl.length; b++) {
      const line = lines[b]
      const id = bl.id[b]
      if (bl.rf[b] !== 0 && !seq.rf.has(bl.rf[b])) throw this.error(`block ${id} refers to RF ID ${bl.rf[b]} that is not defined`, line)
      for (const [axis, col] of [['x', bl.gx], ['y', bl.gy], ['z', bl.gz]] as const) {
        if (col[b] !== 0 && !seq.gradients.has(col[b])) throw this.error(`block ${id} refers to gradient ID ${col[b]} (g${axis}) that is not defined`, line)
      }
      if (bl.adc[b] !== 0 && !seq.adc.has(bl.adc[b])) throw this.error(`block ${id} refers to ADC ID ${bl.adc[b]} that is not defined`, line)
      const ext = bl.ext[b]
      if (ext !== 0 && !checkedHeads.has(ext)) {
        if (!this.extList.has(ext)) throw this.error(`block ${id} refers to extension list entry ${ext} that is not defined`, line)
        try {
          walkExtensionList(seq.extensions, ext, () => {})
        } catch (e) {
          if (e instanceof ExtensionListError) throw this.error(`block ${id}: ${e.message}`, line)
          throw e
        }
        checkedHeads.add(ext)
      }
      const delayId = this.bDur.data[b]
      if (legacy && delayId !== 0 && !this.delays.has(delayId)) throw this.error(`block ${id} refers to delay ID ${delayId} that is not defined`, line)
    }
  }

  /**
   * Fills in what files before 1.5 leave out: the centre and the use of each RF pulse. Both depend
   * only on the shapes (the flip angle scales with the amplitude), so they are computed once per
   * combination of shapes; a budget keeps a hostile file with many combinations of long shapes from
   * turning this into hours of work.
   */
  private completeRf (seq: Sequence): void {
    const v = seq.version
    const cache = new Map<string, { center: number, flipPerHz: number }>()
    let work = 0
    const budget = 4 * this.limits.maxTotalShapeSamples
    for (const [id, rf] of seq.rf) {
      if (v.minor === 2 && v.revision === 0) this.undoZeroFilling(seq, rf)
      if (!rf.inferred) continue
      const key = `${rf.magShapeId}/${rf.phaseShapeId}/${rf.timeShapeId}`
      let derived = cache.get(key)
      if (derived === undefined) {
        const mag = seq.shapes.get(rf.magShapeId) as Float64Array
        work += mag.length
        if (work > budget) throw this.error('RF events combine too many distinct long shapes to analyse', this.rfLines.get(id))
        derived = {
          center: rfCenterFromShape(mag, rfSampleTimes(seq, rf)),
          flipPerHz: rfFlipAngleDeg(seq, { ...rf, amplitude: 1 })
        }
        cache.set(key, derived)
      }
      rf.center = derived.center
      rf.use = derived.flipPerHz * Math.abs(rf.amplitude) > REFOCUSING_MIN_FLIP_DEG ? 'refocusing' : 'excitation'
    }
  }

  /**
   * Revision 1.2.0 padded RF shapes with zeros for the dead time and also wrote that time as the
   * delay; 1.2.1 dropped the padding and "interpreter code also does not attempt to detect RF
   * zero-filling" (specification, revision history). So for 1.2.0 the leading zero samples are taken
   * to lie within the delay: the delay shrinks by them and the shape keeps its samples.
   */
  private undoZeroFilling (seq: Sequence, rf: RfEvent): void {
    if (rf.delay <= 0 || rf.timeShapeId !== 0) return
    const mag = seq.shapes.get(rf.magShapeId) as Float64Array
    let zeros = 0
    while (zeros < mag.length && mag[zeros] === 0) zeros++
    if (zeros === 0 || zeros === mag.length) return
    rf.delay = Math.max(0, rf.delay - zeros * seq.rasters.rf)
  }

  private setDurations (seq: Sequence): void {
    const bl = seq.blocks
    const raw = this.bDur.data
    if (seq.version.minor >= 4) {
      for (let b = 0; b < bl.length; b++) {
        const d = raw[b] * seq.rasters.blockDuration
        if (d > MAX_TIME) throw this.error(`block ${bl.id[b]} lasts longer than ${MAX_TIME} s`, this.bLine.data[b])
        bl.duration[b] = d
        if (this.checkTiming) {
          const end = blockEventsEnd(seq, b)
          if (end > d + TIME_EPS + 1e-9 * d) {
            throw this.error(`block ${bl.id[b]} lasts ${fmtUs(d)} µs but its events run until ${fmtUs(end)} µs`, this.bLine.data[b])
          }
        }
      }
      return
    }
    // Before 1.4 a block lasts as long as its longest event, or its delay event if that is longer.
    for (let b = 0; b < bl.length; b++) {
      const delay = raw[b] === 0 ? 0 : this.delays.get(raw[b]) ?? 0
      bl.duration[b] = Math.max(delay, blockEventsEnd(seq, b))
    }
  }

  /**
   * Files before 1.5 do not store the first and last values of arbitrary gradients. As the MATLAB
   * and Python readers do, `first` continues the same channel's previous gradient when that one ends
   * on the block boundary (else 0), and `last` is extrapolated by half a raster cell from the last two
   * samples; time-shaped gradients simply start and end at their first and last samples.
   */
  private completeGradients (seq: Sequence): void {
    const bl = seq.blocks
    const prevLast = [0, 0, 0]
    const cols = [bl.gx, bl.gy, bl.gz]
    for (let b = 0; b < bl.length; b++) {
      for (let c = 0; c < 3; c++) {
        const g = seq.gradients.get(cols[c][b])
        if (g === undefined || g.type === 'trap') {
          prevLast[c] = 0
          continue
        }
        if (Number.isNaN(g.first) || Number.isNaN(g.last)) {
          const w = seq.shapes.get(g.shapeId) as Float64Array
          if (g.timeShapeId > 0) {
            g.first = g.amplitude * w[0]
            g.last = g.amplitude * w[w.length - 1]
          } else {
            g.first = g.delay > 0 ? 0 : prevLast[c]
            const n = w.length
            g.last = g.amplitude * (n >= 2 ? (3 * w[n - 1] - w[n - 2]) / 2 : w[n - 1])
          }
        }
        const endsOnBoundary = gradientEnd(seq, g) + TIME_EPS >= bl.duration[b]
        prevLast[c] = endsOnBoundary ? g.last : 0
      }
    }
    // Gradients that no block uses still need values for the writer.
    for (const g of seq.gradients.values()) {
      if (g.type === 'arbitrary' && (Number.isNaN(g.first) || Number.isNaN(g.last))) {
        const w = seq.shapes.get(g.shapeId) as Float64Array
        g.first = g.timeShapeId > 0 ? g.amplitude * w[0] : 0
        g.last = g.amplitude * w[w.length - 1]
      }
    }
  }

  private checkRequiredExtensions (seq: Sequence): void {
    const required = seq.definitions.get('RequiredExtensions')
    if (required === undefined) return
    const known = new Set(['LABELSET', 'LABELINC', 'TRIGGERS', 'DELAYS', 'ROTATIONS', 'RF_SHIMS'])
    for (const name of required.split(/\s+/).filter((s) => s !== '')) {
      if (!known.has(name)) seq.warnings.push(`RequiredExtensions names ${name}, which this reader does not understand`)
    }
  }
}

function clip (s: string): string {
  return s.length > 40 ? s.slice(0, 40) + '…' : s
}

function fmtUs (seconds: number): string {
  return String(Number((seconds * 1e6).toPrecision(9)))
}
