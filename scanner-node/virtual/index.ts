// The virtual scanner's physics: phantoms with tissues, their analytic k-space through receive coils,
// and ISMRMRD acquisitions for the readouts a sequence plays. The driver that schedules a scan and paces
// it in real time builds on `simulateReadouts`; it is not here.
export type { PlannedReadout, ReadoutCounters, SequenceTiming } from './readout-plan.ts'
export {
  discPhantom, EMPTY, InvalidPhantomError, phantomImageAt, phantomRadiusM, ringPhantom, sheppLogan2d, sheppLogan3d,
  steadyStateSignal, tissueSignal, TISSUES, transverseDecay, validatePhantom
} from './phantom.ts'
export type { ContrastTiming, Ellipse, Ellipsoid, Phantom, Phantom2D, Phantom3D, SheppLoganOptions, Tissue } from './phantom.ts'
export { crossSection, phantomDc, phantomKspace, shapeKspace, shapesFor } from './kspace.ts'
export type { Complex, ExcitedSlab, KspaceSamples, PhantomKspaceOptions, Shape } from './kspace.ts'
export { birdcageCoils, InvalidCoilsError, sensitivityAt, uniformCoil } from './coils.ts'
export type { BirdcageOptions, CoilArray } from './coils.ts'
export { ACQ_FLAGS, encodingFor, flagBit, hasFlag, kspaceScale, SimulationError, simulateReadouts } from './simulate.ts'
export type { EncodingDescription, Geometry, Limit, SimulateOptions, TrajectoryName } from './simulate.ts'
export { cartesianReadouts, InvalidPlanError } from './cartesian-plan.ts'
export type { CartesianPlanOptions } from './cartesian-plan.ts'
export { CalibrationError, estimateB1Scale, estimateFrequencyOffset, flipAngleSweep } from './calibration.ts'
export type { FlipAngleSweepOptions, FrequencyEstimateOptions } from './calibration.ts'
export { besselJ1, besselJ1OverX } from './bessel.ts'
export { SeededRandom } from './random.ts'
