// Calibrations as ScanHub runs them before an acquisition: frequency (an FID, its spectrum's peak gives
// the offset of the receiver from the spins), flip angle (FIDs over a sweep of nominal angles; the
// curve's shape gives the actual B1 per nominal angle) and shim. Each returns the device parameters to
// write and a record of what was measured.
import { fid, parseSeq, writeSeq } from '../../protocol/pulseq/index.ts'
import { estimateB1Scale, estimateFrequencyOffset, TISSUES } from '../virtual/index.ts'
import { planSequence } from './sequence-plan.ts'
import { virtualScan } from './virtual-scan.ts'
import { AcquisitionFlag, hasFlag } from '../../protocol/mrd/index.ts'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import type { VirtualMagnet } from './virtual-magnet.ts'

export type Calibration = 'FREQUENCY' | 'FLIP_ANGLE' | 'SHIM'

export interface CalibrationOutcome {
  calibration: Calibration
  /** parameters of the device after the calibration */
  parameters: Record<string, number>
  /** what was measured, for the result and the log */
  measured: Record<string, number | string>
  message: string
}

interface DeviceState { larmorFrequencyHz: number, rfAmplitudeScale: number }

/** Long enough that every tissue has relaxed: the FID amplitude is then ρ·sin(actual flip angle). */
const SWEEP_TR_S = 20

export function calibrate (which: Calibration, device: DeviceState, magnet: VirtualMagnet, seed = 7): CalibrationOutcome {
  if (which === 'FREQUENCY') {
    const plan = planSequence(parseSeq(writeSeq(fid({ flipAngleDeg: 90 }))))
    const scan = virtualScan({ plan, coils: 1, noiseSigma: 1e-3, seed, offResonanceHz: magnet.trueLarmorHz - device.larmorFrequencyHz, b1Scale: magnet.trueB1Scale * device.rfAmplitudeScale })
    const acquisition = firstSignalReadout(scan.acquisitions)
    const offset = estimateFrequencyOffset(acquisition.data, acquisition.head.sampleTimeUs * 1e-6)
    const larmor = Math.round(device.larmorFrequencyHz + offset)
    return {
      calibration: which,
      parameters: { larmorFrequencyHz: larmor },
      measured: { offsetHz: Math.round(offset * 10) / 10, previousLarmorHz: device.larmorFrequencyHz, larmorHz: larmor },
      message: `frequency: offset ${offset.toFixed(1)} Hz, Larmor frequency now ${larmor} Hz`
    }
  }
  if (which === 'FLIP_ANGLE') {
    const angles = [30, 60, 90, 120, 150, 180, 210]
    const magnitudes = angles.map((angle) => {
      const plan = planSequence(parseSeq(writeSeq(fid({ flipAngleDeg: angle, trS: SWEEP_TR_S }))))
      const scan = virtualScan({ plan, coils: 1, noiseSigma: 1e-4, seed, offResonanceHz: magnet.trueLarmorHz - device.larmorFrequencyHz, b1Scale: magnet.trueB1Scale * device.rfAmplitudeScale })
      const acquisition = firstSignalReadout(scan.acquisitions)
      return Math.hypot(acquisition.data[0], acquisition.data[1])
    })
    const b1 = estimateB1Scale(angles, magnitudes, { tissue: TISSUES.water, trS: SWEEP_TR_S })
    const scale = Math.round((device.rfAmplitudeScale / b1) * 1000) / 1000
    return {
      calibration: which,
      parameters: { rfAmplitudeScale: scale },
      measured: { b1Scale: Math.round(b1 * 1000) / 1000, previousRfAmplitudeScale: device.rfAmplitudeScale, rfAmplitudeScale: scale },
      message: `flip angle: actual/nominal ${b1.toFixed(3)}, RF amplitude scale now ${scale}`
    }
  }
  // The virtual magnet's field is homogeneous apart from its global offset, which frequency
  // calibration already corrects: there is no gradient offset for a shim to find.
  return {
    calibration: which,
    parameters: {},
    measured: { linearTermsHzPerM: '0,0,0' },
    message: 'shim: the virtual magnet has no field gradient to correct; shims left at 0'
  }
}

/** The FID's first readout that is not a noise measurement. */
function firstSignalReadout (acquisitions: Iterable<Acquisition>): Acquisition {
  for (const a of acquisitions) {
    if (!hasFlag(a.head.flags, AcquisitionFlag.IS_NOISE_MEASUREMENT)) return a
  }
  throw new Error('the FID produced no signal readout')
}
