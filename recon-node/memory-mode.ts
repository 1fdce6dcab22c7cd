// A reconstruction peer runs on whichever laptop is around, beside whatever else it runs, and takes
// a scan's raw data at network speed: every byte passes through several buffers (socket, pre-shared-key
// cipher, Noise, yamux, MRD decoder) that die young but are freed only when V8 collects them. With its
// default heuristics V8 lets tens of megabytes of such dead array buffers pile up between collections,
// and the process keeps the pages. V8's --optimize-for-size makes it collect sooner and grow its heap
// in smaller steps: some 30 MiB less at the peak of a 64-slice scan, for collection time that the
// reconstruction, bounded by its FFTs, does not notice (`npm run bench`, (a) and (d)).
import { setFlagsFromString } from 'node:v8'

let applied = false

/**
 * Makes this process's V8 favour memory over speed: the flag is read at each collection, so it holds
 * from here on, also in worker threads started after this call.
 */
export function favourMemoryOverSpeed (): void {
  if (applied) return
  applied = true
  setFlagsFromString('--optimize-for-size')
}
