// The port every scanner driver implements, the virtual scanner and serial hardware alike. A driver
// only plays a sequence and hands back the ADC samples as the hardware records them; turning samples
// into ISMRMRD acquisitions (headers, flags, counters, time stamps), storing and streaming them is the
// acquisition task's job, above the driver, so that every driver gets it right in the same way.
//
// Contract of `run` (every driver, checked by its tests):
// - Lazy: nothing is sent to the hardware before the first `next()`.
// - Yields each readout of `request.readouts` exactly once, in index order 0, 1, …, n − 1, then ends.
//   A readout the link lost is fetched again or the run fails; a driver never skips one silently.
// - Aborting `request.signal`, or leaving the loop early (`break`, `return`, a throw in the loop body),
//   stops the hardware: RF and gradients off within one TR. The iterator ends without an error once the
//   hardware confirms the stop and yields nothing after it; if the stop cannot be confirmed (no answer,
//   device gone) it throws, because an unconfirmed stop is a safety matter the caller must see.
// - Every failure is thrown from the iterator, as a named error. A driver never rejects a promise nobody
//   awaits nor throws from a timer or an event handler: a scanner service runs for months.
// - One run at a time per driver: a second `run` while one is going throws ScannerBusyError on its first
//   `next()`, and does not disturb the first.
import type { PlannedReadout, SequenceTiming } from './virtual/index.ts'

/** What a scanner says about itself. */
export interface DeviceInfo {
  manufacturer: string
  model: string
  /** '' when the device does not say */
  serialNumber: string
  /** firmware or software version; '' when the device does not say */
  firmware: string
  /** main field B0, tesla */
  fieldStrengthT: number
  /** the system's proton resonance frequency (ISMRMRD H1resonanceFrequency_Hz), Hz */
  larmorFrequencyHz: number
  /** receive channels the device can record at once */
  channels: number
}

/** One scan to play. */
export interface ScanRequest {
  /** the Pulseq `.seq` file, as bytes: what real hardware plays */
  sequence: Uint8Array
  /**
   * What the sequence acquires, in order: every ADC readout with its k-space positions and counters
   * (from the Pulseq interpreter, noise-calibration readouts included with `isNoise`). Hardware needs
   * only their number and sizes, to check what it returns; simulators make their signal from them.
   */
  readouts: readonly PlannedReadout[]
  /** the sequence's timing; TR also paces the scan and bounds how long a driver waits for a readout */
  timing: SequenceTiming
  /** field of view [x, y, z], metres (z: slice thickness in 2D, slab in 3D) */
  fovM: [number, number, number]
  /** reconstructed matrix [nx, ny] or [nx, ny, nz] */
  matrix: [number, number] | [number, number, number]
  /** receive channels to record, 1 ≤ coils ≤ DeviceInfo.channels */
  coils: number
  /** 2: the receiver samples each readout twice as densely (twice the samples, same extent of k) */
  oversampling: 1 | 2
  /**
   * true: one readout per TR, as hardware plays; false (default): as fast as the device can. Hardware
   * is always real time; a simulator honours it, so that live progress and failover can be watched.
   */
  realTime?: boolean
  /** aborts the scan: see the contract in the file header */
  signal: AbortSignal
}

/** The samples of one ADC readout, as the hardware recorded them. */
export interface AdcReadout {
  /** position of the readout in `ScanRequest.readouts` */
  index: number
  /** equals `ScanRequest.coils` */
  channels: number
  /** samples per channel, oversampling included */
  numberOfSamples: number
  /**
   * complex samples, channel-major, re/im interleaved: sample m of channel c is
   * (samples[2(c·n + m)], samples[2(c·n + m) + 1]), n = numberOfSamples; owned by the caller
   */
  samples: Float32Array
}

/** A scanner: virtual, or hardware behind some link. */
export interface ScannerDriver {
  /** for logs and the device list, e.g. 'serial:/dev/ttyUSB0' or 'virtual' */
  readonly name: string
  /** The device's identity; connects first if needed. */
  info (options?: { signal?: AbortSignal }): Promise<DeviceInfo>
  /** Plays a scan and yields its readouts as the hardware produces them (see the file header). */
  run (request: ScanRequest): AsyncIterable<AdcReadout>
  /** Stops a run in progress (as an abort would), releases the device; later calls reject with ScannerClosedError. Idempotent. */
  close (): Promise<void>
}

/** A run was asked for while another run of the same driver is going. */
export class ScannerBusyError extends Error {
  override name = 'ScannerBusyError'
}

/** The driver was closed. */
export class ScannerClosedError extends Error {
  override name = 'ScannerClosedError'
}

/** A scan request that this device cannot play (more coils than it has, a readout too long, no readouts, …). */
export class ScanRequestError extends Error {
  override name = 'ScanRequestError'
}

/**
 * Samples per channel that a readout records: its planned samples, doubled by oversampling unless the
 * sequence already sampled it twice as densely (os·nx samples), as the virtual scanner does it.
 */
export function samplesOfReadout (readout: PlannedReadout, oversampling: 1 | 2, nx: number): number {
  const n = readout.kx.length
  return oversampling === 2 && n !== 2 * nx ? 2 * n : n
}

/** Throws ScanRequestError for a request no driver can play. */
export function checkScanRequest (request: ScanRequest): void {
  const fail = (why: string): never => { throw new ScanRequestError(why) }
  if (request.sequence.length === 0) fail('the sequence file is empty')
  if (request.readouts.length === 0) fail('the scan has no readouts')
  if (!Number.isInteger(request.coils) || request.coils < 1) fail(`coils = ${request.coils}: needs a positive integer`)
  if (request.oversampling !== 1 && request.oversampling !== 2) fail(`oversampling ${String(request.oversampling)}: 1 or 2`)
  if (!(request.timing.trS > 0 && Number.isFinite(request.timing.trS))) fail(`TR ${request.timing.trS} s`)
  if (!request.fovM.every((f) => f > 0 && Number.isFinite(f))) fail(`field of view ${request.fovM.join(' × ')} m`)
  if (!request.matrix.every((m) => Number.isInteger(m) && m >= 1)) fail(`matrix ${request.matrix.join(' × ')}`)
  request.readouts.forEach((r, i) => {
    if (r.kx.length === 0 || r.ky.length !== r.kx.length || r.kz.length !== r.kx.length) fail(`readout ${i}: k arrays of lengths ${r.kx.length}, ${r.ky.length}, ${r.kz.length}`)
  })
}
