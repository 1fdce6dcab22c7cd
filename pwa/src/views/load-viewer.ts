// The image viewer (with dcmjs, most of the app's code) loads when first shown, not at start;
// <sh-image-viewer> elements upgrade once it is defined. The service worker precaches it all the same.
let loading: Promise<unknown> | undefined

export function loadImageViewer (): void {
  loading ??= import('./sh-image-viewer.ts')
}
