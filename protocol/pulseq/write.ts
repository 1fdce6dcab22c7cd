// Writer of Pulseq text files, always revision 1.5.0: the newest layout, the one that stores RF
// centre and use and the first/last values of arbitrary gradients, so nothing the interpreter needs is
// left to inference. Shapes are compressed when that makes them shorter, and the file is signed.

import { RASTER_DEFINITIONS, WRITE_VERSION } from './constants.ts'
import { SeqWriteError } from './errors.ts'
import { blockStarts } from './events.ts'
import { compressShape } from './shapes.ts'
import { appendSignature } from './signature.ts'
import type { ExtensionTable, RfUse, Sequence } from './types.ts'

const USE_INITIAL: Record<RfUse, string> = {
  excitation: 'e',
  refocusing: 'r',
  inversion: 'i',
  saturation: 's',
  preparation: 'p',
  other: 'o',
  undefined: 'u'
}

/** Shortest decimal of x at 12 significant digits: enough for every field, free of binary noise (1e-4 · 1e6). */
export function formatNumber (x: number): string {
  if (!Number.isFinite(x)) throw new SeqWriteError(`cannot write the non-finite number ${x}`)
  return String(Number(x.toPrecision(12)))
}

const us = (seconds: number): string => formatNumber(seconds * 1e6)

/** The text of a signed .seq file (version 1.5.0) for the sequence. */
export function writeSeq (seq: Sequence): string {
  check(seq)
  const out: string[] = []
  const put = (s: string): void => { out.push(s) }
  const { major, minor, revision } = WRITE_VERSION

  put('# Pulseq sequence file')
  put('# Created by ScanHub')
  put('')
  put('[VERSION]')
  put(`major ${major}`)
  put(`minor ${minor}`)
  put(`revision ${revision}`)
  put('')

  put('[DEFINITIONS]')
  const defs = new Map(seq.definitions)
  for (const key of Object.keys(RASTER_DEFINITIONS) as Array<keyof typeof RASTER_DEFINITIONS>) {
    defs.set(RASTER_DEFINITIONS[key], formatNumber(seq.rasters[key]))
  }
  defs.set('TotalDuration', formatNumber(blockStarts(seq.blocks.duration).total))
  for (const key of [...defs.keys()].sort()) {
    const value = defs.get(key) as string
    if (!/^\S+$/.test(key)) throw new SeqWriteError(`definition key "${key}" must be one word`)
    if (/[\r\n]/.test(value)) throw new SeqWriteError(`definition ${key} must fit on one line`)
    put(`${key} ${value}`)
  }
  put('')

  put('# Format of blocks:')
  put('# NUM DUR RF  GX  GY  GZ  ADC  EXT')
  put('[BLOCKS]')
  const bl = seq.blocks
  const raster = seq.rasters.blockDuration
  for (let b = 0; b < bl.length; b++) {
    const r = bl.duration[b] / raster
    let units = Math.round(r)
    // A duration off the raster (possible from files before 1.4) is rounded up, so every event still fits.
    if (Math.abs(r - units) > 1e-6) units = Math.ceil(r - 1e-6)
    put(`${bl.id[b]} ${units} ${bl.rf[b]} ${bl.gx[b]} ${bl.gy[b]} ${bl.gz[b]} ${bl.adc[b]} ${bl.ext[b]}`)
  }
  put('')

  if (seq.rf.size > 0) {
    put('# Format of RF events:')
    put('# id ampl. mag_id phase_id time_shape_id center delay freqPPM phasePPM freq phase use')
    put('# ..   Hz      ..       ..            ..     us    us     ppm  rad/MHz   Hz   rad  ..')
    put('# Field "use" is the initial of: excitation refocusing inversion saturation preparation other undefined')
    put('[RF]')
    for (const [id, rf] of sorted(seq.rf)) {
      put(`${id} ${formatNumber(rf.amplitude)} ${rf.magShapeId} ${rf.phaseShapeId} ${rf.timeShapeId} ${us(rf.center)} ${us(rf.delay)} ` +
        `${formatNumber(rf.freqPPM)} ${formatNumber(rf.phasePPM)} ${formatNumber(rf.freqOffset)} ${formatNumber(rf.phaseOffset)} ${USE_INITIAL[rf.use]}`)
    }
    put('')
  }

  const grads = sorted(seq.gradients)
  if (grads.some(([, g]) => g.type === 'arbitrary')) {
    put('# Format of arbitrary gradients:')
    put('#   time_shape_id of 0 means default timing (stepping with grad_raster starting at 1/2 of grad_raster)')
    put('# id amplitude first last amp_shape_id time_shape_id delay')
    put('# ..      Hz/m  Hz/m Hz/m        ..         ..          us')
    put('[GRADIENTS]')
    for (const [id, g] of grads) {
      if (g.type !== 'arbitrary') continue
      put(`${id} ${formatNumber(g.amplitude)} ${formatNumber(g.first)} ${formatNumber(g.last)} ${g.shapeId} ${g.timeShapeId} ${us(g.delay)}`)
    }
    put('')
  }
  if (grads.some(([, g]) => g.type === 'trap')) {
    put('# Format of trapezoid gradients:')
    put('# id amplitude rise flat fall delay')
    put('# ..      Hz/m   us   us   us    us')
    put('[TRAP]')
    for (const [id, g] of grads) {
      if (g.type !== 'trap') continue
      put(`${id} ${formatNumber(g.amplitude)} ${us(g.rise)} ${us(g.flat)} ${us(g.fall)} ${us(g.delay)}`)
    }
    put('')
  }

  if (seq.adc.size > 0) {
    put('# Format of ADC events:')
    put('# id num dwell delay freqPPM phasePPM freq phase phase_id')
    put('# ..  ..    ns    us     ppm  rad/MHz   Hz   rad       ..')
    put('[ADC]')
    for (const [id, a] of sorted(seq.adc)) {
      put(`${id} ${a.numSamples} ${formatNumber(a.dwell * 1e9)} ${us(a.delay)} ${formatNumber(a.freqPPM)} ${formatNumber(a.phasePPM)} ` +
        `${formatNumber(a.freqOffset)} ${formatNumber(a.phaseOffset)} ${a.phaseShapeId}`)
    }
    put('')
  }

  if (seq.extensions.list.size > 0) {
    put('# Format of extension lists:')
    put('# id type ref next_id')
    put('# next_id of 0 terminates the list')
    put('# Extension list is followed by extension specifications')
    put('[EXTENSIONS]')
    for (const [id, e] of sorted(seq.extensions.list)) put(`${id} ${e.type} ${e.ref} ${e.next}`)
    put('')
    for (const [type, table] of sorted(seq.extensions.tables)) writeTable(put, type, table)
  }

  if (seq.shapes.size > 0) {
    put('# Sequence Shapes')
    put('[SHAPES]')
    put('')
    for (const [id, samples] of sorted(seq.shapes)) {
      put(`shape_id ${id}`)
      put(`num_samples ${samples.length}`)
      for (const v of compressShape(samples).values) put(formatNumber(v))
      put('')
    }
  }

  return appendSignature(out.join('\n') + '\n')
}

function writeTable (put: (s: string) => void, type: number, table: ExtensionTable): void {
  switch (table.kind) {
    case 'labelset':
    case 'labelinc':
      put('# Extension specification for setting labels:')
      put('# id set labelstring')
      put(`extension ${table.name} ${type}`)
      for (const [id, e] of sorted(table.events)) put(`${id} ${e.value} ${e.label}`)
      break
    case 'triggers':
      put('# Extension specification for digital output and input triggers:')
      put('# id type channel delay (us) duration (us)')
      put(`extension ${table.name} ${type}`)
      for (const [id, e] of sorted(table.events)) put(`${id} ${e.triggerType} ${e.channel} ${us(e.delay)} ${us(e.duration)}`)
      break
    case 'softDelays':
      put('# Extension specification for soft delays:')
      put('# id num offset factor hint')
      put('# ..  ..     us     ..   ..')
      put(`extension ${table.name} ${type}`)
      for (const [id, e] of sorted(table.events)) put(`${id} ${e.num} ${us(e.offset)} ${formatNumber(e.factor)} ${e.hint}`)
      break
    case 'rotations':
      put('# Extension specification for rotations:')
      put('# id RotQuat0 RotQuatX RotQuatY RotQuatZ')
      put(`extension ${table.name} ${type}`)
      for (const [id, e] of sorted(table.events)) put(`${id} ${e.quaternion.map(formatNumber).join(' ')}`)
      break
    case 'rfShims':
      put('# Extension specification for RF shimming:')
      put('# id num_chan magn_c1 phase_c1 magn_c2 phase_c2 ...')
      put(`extension ${table.name} ${type}`)
      for (const [id, e] of sorted(table.events)) {
        const pairs = e.magnitudes.map((m, c) => `${formatNumber(m)} ${formatNumber(e.phases[c])}`)
        put(`${id} ${e.magnitudes.length} ${pairs.join(' ')}`)
      }
      break
    case 'unknown':
      put(`extension ${table.name} ${type}`)
      for (const [id, raw] of sorted(table.events)) put(`${id} ${raw}`)
      break
  }
  put('')
}

function sorted<V> (map: Map<number, V>): Array<[number, V]> {
  return [...map].sort((a, b) => a[0] - b[0])
}

/** Refuses sequences whose references would not resolve when the file is read back. */
function check (seq: Sequence): void {
  const shape = (id: number, what: string): void => {
    if (!seq.shapes.has(id)) throw new SeqWriteError(`${what} refers to shape ${id} that is not defined`)
  }
  for (const [id, rf] of seq.rf) {
    shape(rf.magShapeId, `RF ${id}`)
    shape(rf.phaseShapeId, `RF ${id}`)
    if (rf.timeShapeId > 0) shape(rf.timeShapeId, `RF ${id}`)
  }
  for (const [id, g] of seq.gradients) {
    if (g.type !== 'arbitrary') continue
    shape(g.shapeId, `gradient ${id}`)
    if (g.timeShapeId > 0) shape(g.timeShapeId, `gradient ${id}`)
  }
  for (const [id, a] of seq.adc) if (a.phaseShapeId > 0) shape(a.phaseShapeId, `ADC ${id}`)
  const bl = seq.blocks
  if (bl.length === 0) throw new SeqWriteError('a sequence needs at least one block')
  for (let b = 0; b < bl.length; b++) {
    if (b > 0 && bl.id[b] <= bl.id[b - 1]) throw new SeqWriteError(`block IDs must increase (block ${bl.id[b]} after ${bl.id[b - 1]})`)
    if (bl.rf[b] !== 0 && !seq.rf.has(bl.rf[b])) throw new SeqWriteError(`block ${bl.id[b]} refers to RF ${bl.rf[b]} that is not defined`)
    for (const g of [bl.gx[b], bl.gy[b], bl.gz[b]]) {
      if (g !== 0 && !seq.gradients.has(g)) throw new SeqWriteError(`block ${bl.id[b]} refers to gradient ${g} that is not defined`)
    }
    if (bl.adc[b] !== 0 && !seq.adc.has(bl.adc[b])) throw new SeqWriteError(`block ${bl.id[b]} refers to ADC ${bl.adc[b]} that is not defined`)
    if (bl.ext[b] !== 0 && !seq.extensions.list.has(bl.ext[b])) throw new SeqWriteError(`block ${bl.id[b]} refers to extension list entry ${bl.ext[b]} that is not defined`)
  }
}
