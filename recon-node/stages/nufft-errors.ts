// Named errors of the non-Cartesian reconstruction (nufft.ts); tests assert on `.name`.

/** An image readout reached the nufft stage without a k-space trajectory (trajectory_dimensions 0). */
export class MissingTrajectoryError extends Error {
  override name = 'MissingTrajectoryError'
}

/** The trajectory is of a kind the stage does not reconstruct (1-D, 3-D, stack of stars). */
export class UnsupportedTrajectoryError extends Error {
  override name = 'UnsupportedTrajectoryError'
}

/** The trajectory's values are not in ISMRMRD's normalised units (k·Δx, ±0.5 at the matrix edge). */
export class TrajectoryScaleError extends Error {
  override name = 'TrajectoryScaleError'
}
