// Runs the ACQUISITION tasks of this scanner's device: a task whose status becomes STARTED (from the
// app, the REST API or any peer) is queued; it runs its calibrations, then plays its sequence on the
// driver, recording the raw data as an MRD v1 stream while it is acquired, with live progress through
// presence. A task set to CANCELLED while it runs is stopped within one TR. Milestones (INPROGRESS,
// FINISHED, ERROR) and the RAW result go into the task's document.
import { createReadStream, existsSync } from 'node:fs'
import { encodeAcquisitionMessage, encodeCloseMessage, encodeHeaderMessage, writeIsmrmrdXml } from '../../protocol/mrd/index.ts'
import { planSequence } from './sequence-plan.ts'
import { sequenceToPlay } from './protocol-sequence.ts'
import { parseSequenceText } from './load-sequence.ts'
import { virtualScan } from './virtual-scan.ts'
import { calibrate, type Calibration } from './calibrate.ts'
import type { VirtualMagnet } from './virtual-magnet.ts'
import type { RawRecordings } from '../raw/raw-recordings.ts'
import type { ScannerDriver } from '../driver.ts'
import type { Acquisition } from '../../protocol/mrd/types.ts'
import type { PeerContext } from '../../node/peer.ts'
import { runFileName, runOf } from '../../protocol/lab/index.ts'
import type { Task, AcquisitionParameters, Device, Patient } from '../../protocol/lab/index.ts'

export interface TaskRunnerInit {
  deviceId: string
  recordings: RawRecordings
  magnet: VirtualMagnet
  /** play readouts at the sequence's own pace (default true); false runs as fast as the CPU allows */
  realTime?: boolean
  /** receive noise, standard deviation per sample */
  noiseSigma?: number
  /** hardware to play the sequence on; without one, the virtual scanner makes the signal */
  driver?: ScannerDriver
}

const PROGRESS_INTERVAL_MS = 200

export class AcquisitionTaskRunner {
  private readonly context: PeerContext
  private readonly init: TaskRunnerInit
  private readonly queue: string[] = []
  private running?: { taskId: string, abort: AbortController }
  private unsubscribe?: () => void
  private draining = false

  constructor (context: PeerContext, init: TaskRunnerInit) {
    this.context = context
    this.init = init
  }

  start (): void {
    this.unsubscribe = this.context.lab.onChange(() => { this.poll() })
    // Tasks left INPROGRESS by a crash of this peer never finished: say so rather than leave them hanging,
    // and say where the readouts recorded until the crash are (on disk up to the last whole message).
    for (const task of this.myTasks()) {
      if (task.status === 'INPROGRESS') {
        const raw = this.init.recordings.pathOf(task.id)
        const kept = existsSync(raw) ? ` (the raw data recorded before the stop is in ${raw} on this peer, until the task runs again)` : ''
        this.context.lab.tasks.setStatus(task.id, 'ERROR', this.context.actor, { error: `the scanner peer stopped during this acquisition; start it again${kept}` })
      }
    }
    this.poll()
  }

  async stop (): Promise<void> {
    this.unsubscribe?.()
    this.running?.abort.abort(new Error('the scanner peer is shutting down'))
  }

  private myTasks (): Task[] {
    return this.context.lab.tasks.list().filter((t) => t.type === 'ACQUISITION' && (t.parameters as AcquisitionParameters).deviceId === this.init.deviceId)
  }

  private poll (): void {
    for (const task of this.myTasks()) {
      if (task.status === 'STARTED' && !this.queue.includes(task.id) && this.running?.taskId !== task.id) this.queue.push(task.id)
    }
    const current = this.running
    if (current !== undefined) {
      const task = this.context.lab.tasks.get(current.taskId)
      if (task === undefined || task.status === 'CANCELLED') current.abort.abort(new Error('stopped'))
    }
    void this.drain()
  }

  private async drain (): Promise<void> {
    if (this.draining) return
    this.draining = true
    try {
      for (let taskId = this.queue.shift(); taskId !== undefined; taskId = this.queue.shift()) {
        const task = this.context.lab.tasks.get(taskId)
        if (task?.status !== 'STARTED') continue
        await this.run(task)
      }
    } finally {
      this.draining = false
    }
  }

  private async run (task: Task): Promise<void> {
    const { lab, actor, log } = this.context
    const abort = new AbortController()
    this.running = { taskId: task.id, abort }
    lab.tasks.setStatus(task.id, 'INPROGRESS', actor)
    this.context.setPresence({ status: 'BUSY', progress: { [task.id]: { fraction: 0, message: 'preparing', startedAt: Date.now() } } })
    try {
      // INPROGRESS reaches the disk before any raw data does: a crash during the scan must leave the
      // task INPROGRESS (reported as interrupted at the next start), never STARTED, which would run it
      // again unasked over the readouts already recorded.
      await this.context.docs.flush()
      await this.acquire(task, abort.signal)
      lab.tasks.setStatus(task.id, 'FINISHED', actor)
      log(`scanner: task ${task.id} (${task.name}) finished`)
    } catch (err) {
      const current = lab.tasks.get(task.id)
      if (abort.signal.aborted && current?.status === 'CANCELLED') {
        log(`scanner: task ${task.id} stopped by the operator`)
      } else if (current !== undefined) {
        lab.tasks.setStatus(task.id, 'ERROR', actor, { error: (err as Error).message })
        log(`scanner: task ${task.id} failed: ${(err as Error).message}`)
      }
    } finally {
      this.running = undefined
      this.context.setPresence({ status: 'ONLINE', progress: {} })
      await this.context.docs.flush()
    }
  }

  private device (): Device {
    const device = this.context.lab.devices.get(this.init.deviceId)
    if (device === undefined) throw new Error(`device ${this.init.deviceId} is no longer in the lab`)
    return device
  }

  private async acquire (task: Task, signal: AbortSignal): Promise<void> {
    const { lab, actor, blobs } = this.context
    const parameters = task.parameters as AcquisitionParameters
    for (const which of parameters.calibrations ?? []) {
      signal.throwIfAborted()
      if (this.init.driver !== undefined) {
        // Calibration on hardware needs the device's own FID and sweep support, which the serial
        // protocol does not describe yet: say so rather than pretend.
        throw new Error(`${which.toLowerCase()} calibration is not available on serial devices yet; remove it from the task`)
      }
      await this.runCalibration(task, which as Calibration)
    }
    if (parameters.sequenceId === undefined) throw new Error('the task has no sequence')
    const sequence = lab.sequences.get(parameters.sequenceId)
    if (sequence === undefined) throw new Error(`sequence ${parameters.sequenceId} is not in the lab's library`)
    const sequenceBytes = await sequenceToPlay(this.context, task, sequence)
    const plan = planSequence(parseSequenceText(new TextDecoder().decode(sequenceBytes)))
    const device = this.device()
    const larmor = Number(device.parameters.larmorFrequencyHz ?? this.init.magnet.trueLarmorHz)
    const rfScale = Number(device.parameters.rfAmplitudeScale ?? 1)
    const patient = lab.patients.get(task.patientId)
    const scan = virtualScan({
      plan,
      coils: Math.max(1, Math.min(32, Number(device.parameters.receiveCoils ?? 4))),
      noiseSigma: this.init.noiseSigma ?? 0.01,
      // Hardware records only what the sequence asks for; the virtual scanner adds noise calibration.
      noiseReadouts: this.init.driver === undefined ? 8 : 0,
      offResonanceHz: this.init.magnet.trueLarmorHz - larmor,
      b1Scale: this.init.magnet.trueB1Scale * rfScale,
      seed: hashSeed(task.id),
      system: { vendor: device.manufacturer, model: device.model, fieldStrengthT: device.fieldStrengthT, larmorHz: larmor },
      subject: subjectOf(patient),
      protocolName: `${sequence.name} (${task.name})`,
      geometry: geometryOf(parameters)
    })

    const recording = await this.init.recordings.start(task.id)
    try {
      await recording.append(encodeHeaderMessage(writeIsmrmrdXml(scan.header)))
      const started = performance.now()
      const startedAt = Date.now()
      const durationS = plan.summary.durationS
      let lastProgress = 0
      let done = 0
      for await (const acquisition of this.acquisitions(scan.acquisitions, plan, sequenceBytes, signal)) {
        if (signal.aborted) throw signal.reason ?? new Error('stopped')
        if (this.init.realTime !== false && this.init.driver === undefined) {
          // Each readout is released when the sequence would have played it; a stop lands before the next.
          const dueMs = (acquisition.head.acquisitionTimeStamp * 2.5)
          const wait = dueMs - (performance.now() - started)
          if (wait > 1) await sleep(Math.min(wait, 1000), signal)
        }
        await recording.append(encodeAcquisitionMessage(acquisition))
        done++
        const now = performance.now()
        if (now - lastProgress > PROGRESS_INTERVAL_MS || done === scan.count) {
          lastProgress = now
          // Where the scan is in the sequence: the time of the readout just recorded (its time stamp
          // counts 2.5 ms ticks from the sequence's start), not the wall clock, which runs on through
          // calibrations and a slow disk and would report "1.0 s of 0.5 s".
          const positionS = done === scan.count ? durationS : Math.min(durationS, acquisition.head.acquisitionTimeStamp * 0.0025)
          this.context.setPresence({
            progress: {
              [task.id]: {
                fraction: done / scan.count,
                message: `${done}/${scan.count} readouts`,
                startedAt,
                positionS,
                durationS
              }
            }
          })
        }
      }
      await recording.finish(encodeCloseMessage())
    } catch (err) {
      await recording.abort((err as Error).message)
      throw err
    }
    const blob = await blobs.putStream(createReadStream(recording.path))
    // each run's raw data has its own file name (FID.mrd, FID-run2.mrd), so that two runs saved side by side stay apart
    const name = runFileName(`${task.name.replace(/[^A-Za-z0-9._-]+/g, '_') || 'raw'}.mrd`, runOf(task))
    lab.results.create({
      taskId: task.id,
      type: 'RAW',
      files: [{ name, sha256: blob.sha256, size: blob.size, type: 'application/x-ismrmrd-stream' }]
    }, actor)
  }

  /**
   * The acquisitions of a scan: the virtual scanner's, or the plan's headers (counters, flags, geometry
   * as the sequence implies them) carrying the samples the hardware returned for each readout.
   */
  private async * acquisitions (planned: Iterable<Acquisition>, plan: ReturnType<typeof planSequence>, sequence: Uint8Array, signal: AbortSignal): AsyncGenerator<Acquisition> {
    const driver = this.init.driver
    if (driver === undefined) {
      yield * planned
      return
    }
    const headers = planned[Symbol.iterator]()
    for await (const readout of driver.run({
      sequence,
      readouts: plan.readouts,
      timing: plan.timing,
      fovM: plan.fovM,
      matrix: plan.matrix,
      coils: Number(this.device().parameters.receiveCoils ?? 1),
      oversampling: plan.oversampling,
      realTime: true,
      signal
    })) {
      const next = headers.next()
      if (next.done === true) throw new Error(`the device returned more readouts than the sequence has (${readout.index + 1})`)
      const acquisition = next.value
      if (readout.samples.length !== acquisition.data.length) {
        throw new Error(`readout ${readout.index}: the device returned ${readout.numberOfSamples} samples × ${readout.channels} channels, the sequence asks for ${acquisition.head.numberOfSamples} × ${acquisition.head.activeChannels}`)
      }
      yield { ...acquisition, data: readout.samples }
    }
    if (signal.aborted) throw signal.reason ?? new Error('stopped')
  }

  private async runCalibration (task: Task, which: Calibration): Promise<void> {
    const { lab, actor, blobs, log } = this.context
    const device = this.device()
    const outcome = calibrate(which, {
      larmorFrequencyHz: Number(device.parameters.larmorFrequencyHz ?? this.init.magnet.trueLarmorHz),
      rfAmplitudeScale: Number(device.parameters.rfAmplitudeScale ?? 1)
    }, this.init.magnet)
    if (Object.keys(outcome.parameters).length > 0) {
      lab.devices.update(device.id, { parameters: { ...device.parameters, ...outcome.parameters } } as never, actor)
    }
    const record = new TextEncoder().encode(JSON.stringify({ ...outcome, at: new Date().toISOString() }, null, 2))
    const blob = await blobs.put(record)
    lab.results.create({ taskId: task.id, type: 'CALIBRATION', files: [{ name: runFileName(`${which.toLowerCase()}-calibration.json`, runOf(task)), sha256: blob.sha256, size: blob.size, type: 'application/json' }] }, actor)
    log(`scanner: ${outcome.message}`)
  }
}

function subjectOf (patient: Patient | undefined): { name?: string, id?: string, birthDate?: string, sex?: string, heightM?: number, weightKg?: number } | undefined {
  if (patient === undefined) return undefined
  return {
    name: `${patient.lastName}^${patient.firstName}`,
    id: patient.id,
    birthDate: patient.birthDate,
    sex: patient.sex === 'MALE' ? 'M' : patient.sex === 'FEMALE' ? 'F' : 'O',
    heightM: patient.heightCm !== undefined ? patient.heightCm / 100 : undefined,
    weightKg: patient.weightKg
  }
}

/** Slice geometry from the task's FOV offset and rotation (degrees about x, y, z, applied in that order). */
function geometryOf (p: AcquisitionParameters): { position: [number, number, number], readDir: [number, number, number], phaseDir: [number, number, number], sliceDir: [number, number, number] } {
  const [ax, ay, az] = (p.fovRotationDeg ?? [0, 0, 0]).map((d) => (d * Math.PI) / 180)
  const rotate = (v: [number, number, number]): [number, number, number] => {
    let [x, y, z] = v
    ;[y, z] = [y * Math.cos(ax) - z * Math.sin(ax), y * Math.sin(ax) + z * Math.cos(ax)]
    ;[x, z] = [x * Math.cos(ay) + z * Math.sin(ay), -x * Math.sin(ay) + z * Math.cos(ay)]
    ;[x, y] = [x * Math.cos(az) - y * Math.sin(az), x * Math.sin(az) + y * Math.cos(az)]
    return [x, y, z]
  }
  return {
    position: (p.fovOffsetMm ?? [0, 0, 0]) as [number, number, number],
    readDir: rotate([1, 0, 0]),
    phaseDir: rotate([0, 1, 0]),
    sliceDir: rotate([0, 0, 1])
  }
}

function hashSeed (text: string): number {
  let h = 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return h >>> 0
}

async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    function done (): void { clearTimeout(timer); signal.removeEventListener('abort', done); resolve() }
    signal.addEventListener('abort', done)
  })
}
