// The reconstruction role: a peer that offers its CPU to turn the lab's raw data into images. It
// announces itself through its peer record and presence (roles include recon), which is how scanner
// peers find it.
import type { RoleService } from '../node/peer.ts'

export function reconRole (): RoleService {
  return {
    role: 'recon',
    async start (ctx) {
      ctx.setPresence({ status: 'ONLINE' })
    },
    async stop () {}
  }
}
