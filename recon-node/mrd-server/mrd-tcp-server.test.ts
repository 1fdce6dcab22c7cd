// The MRD TCP server as a Gadgetron client sees it: data from Debian's
// ismrmrd_generate_cartesian_shepp_logan sent as a stream, images back on the same connection equal to
// `scanhub recon` of the same file; and clients that send garbage, lie about lengths, stall, name an
// unknown configuration or come too many at once get a text message that says why, while the server
// keeps serving.
import { spawnSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readDicom } from '../../protocol/dicom/index.ts'
import { MrdStreamDecoder } from '../../protocol/mrd/stream-decoder.ts'
import { encodeAcquisitionMessage, encodeCloseMessage, encodeConfigFileMessage, encodeHeaderMessage, type MrdMessage } from '../../protocol/mrd/stream.ts'
import { writeIsmrmrdXml } from '../../protocol/mrd/xml-header.ts'
import { reconCommand } from '../cli/recon.ts'
import { createFftPool } from '../fft/pool.ts'
import { scaledNrmse } from '../fft/test-support.ts'
import { readIsmrmrdHdf5 } from '../import/index.ts'
import { MrdTcpServer, pipelineOfConfig } from './mrd-tcp-server.ts'

const generator = spawnSync('sh', ['-c', 'command -v ismrmrd_generate_cartesian_shepp_logan'], { stdio: 'ignore' }).status === 0
if (!generator) console.warn('\n*** SKIPPING the MRD TCP tests that need `ismrmrd_generate_cartesian_shepp_logan` (Debian ismrmrd-tools) ***\n')

const fft = createFftPool({ size: 2 })
let server: MrdTcpServer
let port: number
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scanhub-mrd-tcp-'))
  server = new MrdTcpServer({ port: 0, fft, maxConnections: 2, idleTimeoutMs: 1_000 })
  port = await server.start()
})

afterAll(async () => {
  await server.stop()
  await fft.close()
  await rm(dir, { recursive: true, force: true })
})

/** Sends the bytes, half-closes, and decodes what comes back until the server closes. */
async function exchange (bytes: Uint8Array, options: { keepOpen?: boolean } = {}): Promise<MrdMessage[]> {
  return await new Promise<MrdMessage[]>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const decoder = new MrdStreamDecoder()
    const messages: MrdMessage[] = []
    socket.on('data', (chunk: Buffer) => { messages.push(...decoder.push(chunk)) })
    socket.on('error', reject)
    socket.on('close', () => { resolve(messages) })
    socket.write(bytes)
    if (options.keepOpen !== true) socket.end()
  })
}

const texts = (messages: MrdMessage[]): string => messages.flatMap((m) => m.type === 'text' ? [m.text] : []).join('\n')

describe('MRD over TCP', () => {
  it.skipIf(!generator)('answers a stream with the images scanhub recon makes of the same file', async () => {
    const file = join(dir, 'sl.h5')
    expect(spawnSync('ismrmrd_generate_cartesian_shepp_logan', ['-m', '64', '-c', '4', '-r', '2', '-o', file], { cwd: dir }).status).toBe(0)
    const input = await readIsmrmrdHdf5(file)
    const parts = [encodeConfigFileMessage('default.xml'), encodeHeaderMessage(writeIsmrmrdXml(input.header))]
    for await (const acquisition of input.acquisitions) parts.push(encodeAcquisitionMessage(acquisition))
    parts.push(encodeCloseMessage())
    const answer = await exchange(Buffer.concat(parts))
    const images = answer.filter((m) => m.type === 'image')
    expect(texts(answer)).toBe('')
    expect(answer.map((m) => m.type).filter((t) => t !== 'image')).toEqual(['close'])
    expect(images).toHaveLength(2)
    expect(answer.at(-1)?.type).toBe('close')

    const out = join(dir, 'dicom')
    await reconCommand([file, '--out', out, '--quiet', '--threads', '2'])
    const files = (await readdir(out)).sort()
    expect(files).toHaveLength(2)
    for (const [i, name] of files.entries()) {
      const dicom = readDicom(await readFile(join(out, name)))
      const image = images[i]
      if (image.type !== 'image') throw new Error('not an image')
      expect([image.image.head.matrixSize[0], image.image.head.matrixSize[1]]).toEqual([dicom.columns, dicom.rows])
      expect(image.image.head.repetition).toBe(i)
      // the DICOM holds the same image in 12 bits
      expect(scaledNrmse(Float32Array.from(dicom.pixels), image.image.data as Float32Array)).toBeLessThan(2e-3)
    }
  }, 120_000)

  it('tells a client what it cannot do, and keeps serving', async () => {
    expect(pipelineOfConfig('default.xml')).toBe('default')
    expect(pipelineOfConfig('grappa')).toBe('grappa')
    const unknown = await exchange(Buffer.concat([encodeConfigFileMessage('Generic_Cartesian_Grappa_SNR.xml'), encodeHeaderMessage('<ismrmrdHeader/>')]))
    expect(texts(unknown)).toMatch(/configuration "Generic_Cartesian_Grappa_SNR.xml" is not one this peer runs/)
    expect(unknown.at(-1)?.type).toBe('close')

    const garbage = await exchange(new Uint8Array([0x07, 0x00, 1, 2, 3, 4, 5, 6]))
    expect(texts(garbage)).toMatch(/MrdProtocolError: .*unknown message id 7/)

    // a header announcing 4 GiB of XML
    const lying = new Uint8Array([0x03, 0x00, 0xff, 0xff, 0xff, 0xff, 0x3c])
    expect(texts(await exchange(lying))).toMatch(/MrdProtocolError/)

    const early = await exchange(Buffer.concat([encodeConfigFileMessage('default.xml'), encodeCloseMessage()]))
    expect(early.map((m) => m.type)).toEqual(['close'])
  })

  it('closes a connection that stalls, and turns away connections beyond its limit', async () => {
    const started = Date.now()
    // a config message and nothing more, the connection left open: closed after the idle time
    const stalled = await exchange(encodeConfigFileMessage('default.xml'), { keepOpen: true })
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(stalled).toEqual([])

    const held = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')]
    await new Promise((resolve) => setTimeout(resolve, 200))
    const refused = await exchange(encodeConfigFileMessage('default.xml'), { keepOpen: true })
    expect(texts(refused)).toMatch(/busy: this peer serves 2 MRD connections at once/)
    for (const socket of held) socket.destroy()
  })
})
