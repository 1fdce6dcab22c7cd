// Two hosts on a LAN, as network namespaces joined by a virtual cable: a peer that joins with an invite
// naming no address finds the lab by mDNS alone. Needs root (to create namespaces); skipped otherwise.
import { spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasTool } from './support/external-tools.ts'
import { TestLab, eventually } from './support/peer-process.ts'

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
const tag = Math.random().toString(36).slice(2, 7)
const NS_A = `shA${tag}`
const NS_B = `shB${tag}`
const SUBNET = '10.231.77'

function ip (...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`)
}

function canMakeNamespaces (): boolean {
  if (!isRoot || !hasTool('ip') || !hasTool('curl')) return false
  const probe = spawnSync('ip', ['netns', 'add', `shP${tag}`], { encoding: 'utf8' })
  if (probe.status !== 0) {
    console.warn(`\n*** SKIPPING network-namespace tests: cannot create a namespace (${probe.stderr.trim()}) ***\n`)
    return false
  }
  spawnSync('ip', ['netns', 'del', `shP${tag}`])
  return true
}

const enabled = canMakeNamespaces()
let lab: TestLab

describe.skipIf(!enabled)('a lab on two hosts of a LAN', () => {
  beforeAll(() => {
    ip('netns', 'add', NS_A)
    ip('netns', 'add', NS_B)
    ip('link', 'add', `va${tag}`, 'type', 'veth', 'peer', 'name', `vb${tag}`)
    ip('link', 'set', `va${tag}`, 'netns', NS_A)
    ip('link', 'set', `vb${tag}`, 'netns', NS_B)
    for (const [ns, dev, host] of [[NS_A, `va${tag}`, 1], [NS_B, `vb${tag}`, 2]] as const) {
      ip('-n', ns, 'addr', 'add', `${SUBNET}.${host}/24`, 'dev', dev)
      ip('-n', ns, 'link', 'set', dev, 'up', 'multicast', 'on')
      ip('-n', ns, 'link', 'set', 'lo', 'up')
      // no default route in a test host: multicast (mDNS) needs a route of its own
      ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev)
    }
    lab = new TestLab()
  })

  afterAll(async () => {
    await lab?.cleanup()
    spawnSync('ip', ['netns', 'del', NS_A])
    spawnSync('ip', ['netns', 'del', NS_B])
  })

  it('finds the lab by mDNS and syncs across the link', async () => {
    const a = await lab.peer({ name: 'a', netns: NS_A, listen: `${SUBNET}.1` })
    await a.start(30_000)
    // an invite that names no address: only discovery on the LAN can bring b to a
    const invite = JSON.parse(Buffer.from(a.invite().slice('scanhub-invite:'.length), 'base64url').toString())
    const bare = 'scanhub-invite:' + Buffer.from(JSON.stringify({ ...invite, addrs: [] })).toString('base64url')
    const b = await lab.peer({ name: 'b', netns: NS_B, listen: `${SUBNET}.2`, join: bare })
    await b.start(30_000)
    await eventually(async () => {
      const status = (await b.api<{ peers: Array<{ name: string, connected: boolean }> }>('GET', '/api/v1/status')).body
      return status.peers.some((p) => p.name === 'a' && p.connected)
    }, 30_000, 'b finds a by mDNS')
    const created = await a.api('POST', '/api/v1/patients', { firstName: 'Ada', lastName: 'Lovelace', birthDate: '1985-12-10', sex: 'FEMALE' })
    expect(created.status).toBe(201)
    await eventually(async () => (await b.api('GET', `/api/v1/patients/${created.body.id}`)).status === 200, 5_000, 'patient on b')
  }, 120_000)
})
