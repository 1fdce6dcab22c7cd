// fast-check generators of MRD values, shared by the codec's tests. Floats are drawn as 32-bit
// values so that they survive the f32 wire exactly.
import fc from 'fast-check'
import type { Acquisition, AcquisitionHeader, EncodingCounters, ImageHeader } from './types.ts'
import type { MrdImage } from './image.ts'
import type { Waveform, WaveformHeader } from './waveform.ts'

export const u16 = (): fc.Arbitrary<number> => fc.integer({ min: 0, max: 0xffff })
export const u32 = (): fc.Arbitrary<number> => fc.integer({ min: 0, max: 0xffffffff })
export const i32 = (): fc.Arbitrary<number> => fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
export const u64 = (): fc.Arbitrary<bigint> => fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })
export const f32 = (): fc.Arbitrary<number> => fc.float({ noNaN: true })
const vec3 = (): fc.Arbitrary<[number, number, number]> => fc.tuple(f32(), f32(), f32())

export const encodingCounters = (): fc.Arbitrary<EncodingCounters> => fc.record({
  kspaceEncodeStep1: u16(),
  kspaceEncodeStep2: u16(),
  average: u16(),
  slice: u16(),
  contrast: u16(),
  phase: u16(),
  repetition: u16(),
  set: u16(),
  segment: u16(),
  user: fc.array(u16(), { minLength: 8, maxLength: 8 })
})

/** Any header the wire can carry; sizes kept small so that payloads stay small. */
export const acquisitionHeader = (sizes: { maxSamples?: number, maxChannels?: number } = {}): fc.Arbitrary<AcquisitionHeader> => fc.record({
  version: fc.constant(1),
  flags: u64(),
  measurementUid: u32(),
  scanCounter: u32(),
  acquisitionTimeStamp: u32(),
  physiologyTimeStamp: fc.array(u32(), { minLength: 3, maxLength: 3 }),
  numberOfSamples: fc.integer({ min: 0, max: sizes.maxSamples ?? 0xffff }),
  availableChannels: u16(),
  activeChannels: fc.integer({ min: 0, max: sizes.maxChannels ?? 0xffff }),
  channelMask: fc.array(u64(), { minLength: 16, maxLength: 16 }),
  discardPre: u16(),
  discardPost: u16(),
  centerSample: u16(),
  encodingSpaceRef: u16(),
  trajectoryDimensions: fc.integer({ min: 0, max: 3 }),
  sampleTimeUs: f32(),
  position: vec3(),
  readDir: vec3(),
  phaseDir: vec3(),
  sliceDir: vec3(),
  patientTablePosition: vec3(),
  idx: encodingCounters(),
  userInt: fc.array(i32(), { minLength: 8, maxLength: 8 }),
  userFloat: fc.array(f32(), { minLength: 8, maxLength: 8 })
})

const f32Array = (length: number): fc.Arbitrary<Float32Array> =>
  fc.array(f32(), { minLength: length, maxLength: length }).map((values) => Float32Array.from(values))

export const acquisition = (): fc.Arbitrary<Acquisition> =>
  acquisitionHeader({ maxSamples: 16, maxChannels: 4 }).chain((head) => fc.record({
    head: fc.constant(head),
    traj: f32Array(head.trajectoryDimensions * head.numberOfSamples),
    data: f32Array(2 * head.activeChannels * head.numberOfSamples)
  }))

export const imageHeader = (): fc.Arbitrary<ImageHeader> => fc.record({
  version: fc.constant(1),
  dataType: fc.integer({ min: 1, max: 8 }),
  flags: u64(),
  measurementUid: u32(),
  matrixSize: fc.tuple(u16(), u16(), u16()),
  fieldOfView: vec3(),
  channels: u16(),
  position: vec3(),
  readDir: vec3(),
  phaseDir: vec3(),
  sliceDir: vec3(),
  patientTablePosition: vec3(),
  average: u16(),
  slice: u16(),
  contrast: u16(),
  phase: u16(),
  repetition: u16(),
  set: u16(),
  acquisitionTimeStamp: u32(),
  physiologyTimeStamp: fc.array(u32(), { minLength: 3, maxLength: 3 }),
  imageType: u16(),
  imageIndex: u16(),
  imageSeriesIndex: u16(),
  userInt: fc.array(i32(), { minLength: 8, maxLength: 8 }),
  userFloat: fc.array(f32(), { minLength: 8, maxLength: 8 }),
  attributeStringLen: u32()
})

/** A small image of a random data type, pixels to match. */
export const image = (): fc.Arbitrary<MrdImage> => fc.record({
  head: imageHeader(),
  x: fc.integer({ min: 0, max: 4 }),
  y: fc.integer({ min: 0, max: 3 }),
  z: fc.integer({ min: 1, max: 2 }),
  channels: fc.integer({ min: 1, max: 2 }),
  attributes: fc.string({ maxLength: 40 }),
  seed: fc.integer()
}).map(({ head, x, y, z, channels, attributes, seed }) => {
  const h: ImageHeader = { ...head, matrixSize: [x, y, z], channels }
  const complex = h.dataType === 7 || h.dataType === 8
  const n = x * y * z * channels * (complex ? 2 : 1)
  const types = [Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array, Float32Array, Float64Array]
  const data = new types[h.dataType - 1](n)
  for (let i = 0; i < n; i++) data[i] = (seed + i * 7919) % 30000
  h.attributeStringLen = new TextEncoder().encode(attributes).length
  return { head: h, attributes, data }
})

export const waveformHeader = (): fc.Arbitrary<WaveformHeader> => fc.record({
  version: fc.constant(1),
  flags: u64(),
  measurementUid: u32(),
  scanCounter: u32(),
  timeStamp: u32(),
  numberOfSamples: fc.integer({ min: 0, max: 8 }),
  channels: fc.integer({ min: 0, max: 3 }),
  sampleTimeUs: f32(),
  waveformId: u16()
})

export const waveform = (): fc.Arbitrary<Waveform> => waveformHeader().chain((head) => fc.record({
  head: fc.constant(head),
  data: fc.array(u32(), { minLength: head.channels * head.numberOfSamples, maxLength: head.channels * head.numberOfSamples }).map((v) => Uint32Array.from(v))
}))
