// The peak resident memory of this process. On Linux getrusage's ru_maxrss is not it for a child
// process: fork() copies the parent's memory map, and exec() keeps that copy's high-water mark in the
// child's ru_maxrss, so a benchmark child spawned by a large parent would report the parent's size.
// /proc/self/status's VmHWM is the high-water mark of this program's own memory map.
import { readFileSync } from 'node:fs'

export function peakRssMiB (): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    if (hwm !== null) return Number(hwm[1]) / 1024
  } catch {
    // not Linux: getrusage below
  }
  return process.resourceUsage().maxRSS / 1024
}
