// The image viewer (with dcmjs, most of the app's code) loads when first shown, not at start;
// <sh-image-viewer> elements upgrade once it is defined. The service worker precaches it all the same.
let loading: Promise<unknown> | undefined

export function loadImageViewer (): void {
  loading ??= import('./sh-image-viewer.ts')
}

let loadingRaw: Promise<unknown> | undefined

/** The raw data viewer, likewise loaded when a raw result is first shown. */
export function loadRawViewer (): void {
  loadingRaw ??= import('./sh-raw-viewer.ts')
}
