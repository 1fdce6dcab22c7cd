// The reconstruction pipelines a task can name: what the reconstruction peers run
// (recon-node/pipeline/pipelines.ts maps each name to its chain of stages) and what the app offers.

export interface PipelineInfo {
  name: string
  /** one line for people choosing a pipeline */
  description: string
}

export const PIPELINES: readonly PipelineInfo[] = Object.freeze([
  { name: 'default', description: 'Chosen from the raw data: Cartesian, parallel imaging (GRAPPA), EPI or non-Cartesian gridding' },
  { name: 'cartesian', description: 'Fully sampled Cartesian 2D/3D: inverse FFT, coil combination; partial Fourier by POCS' },
  { name: 'grappa', description: 'Undersampled Cartesian with calibration lines at the centre: GRAPPA, then FFT' },
  { name: 'epi', description: 'Echo-planar: ramp-sampling regridding, Nyquist-ghost correction from navigators, FFT' },
  { name: 'nufft', description: 'Radial, UTE and spiral: gridding of the stored k-space trajectory (Kaiser–Bessel)' },
  { name: 'batch', description: 'Fully sampled Cartesian, the heavy work on whole slices (files, re-reconstruction)' }
])
