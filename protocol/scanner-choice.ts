// "Any scanner": an acquisition without a device (as the starter templates make them) runs on the
// lab's scanner, chosen when the task is started, by the app or the hub, and written into the task
// with the start so that the scanner peer of that device takes it up. Isomorphic.
import type { Device } from './lab/index.ts'

export type ScannerChoice = { ok: true, device: Device } | { ok: false, problem: string }

/**
 * The device an acquisition on "any scanner" runs on: the one online, or the lab's only one even
 * while it is offline (the task then waits for it). With several online, or several and none
 * online, a person must choose: the problem says so in words.
 */
export function chooseScanner (devices: readonly Device[], isOnline: (device: Device) => boolean): ScannerChoice {
  if (devices.length === 0) {
    return { ok: false, problem: 'the lab has no scanner yet: start a peer with the scanner role (scanhub start --roles scanner), then run again' }
  }
  const online = devices.filter(isOnline)
  if (online.length === 1) return { ok: true, device: online[0] }
  if (online.length === 0 && devices.length === 1) return { ok: true, device: devices[0] }
  const names = (online.length > 0 ? online : devices).map((d) => d.name).join(', ')
  return {
    ok: false,
    problem: online.length > 1
      ? `several scanners are online (${names}): choose the device of this acquisition (Edit → Device)`
      : `none of the lab's scanners (${names}) is online: choose the device of this acquisition (Edit → Device)`
  }
}
