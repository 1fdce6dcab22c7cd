// Paths of the app, kept in the address bar (history API) so that reload, back and bookmarks work;
// the hub and the service worker answer every path with the app shell.

export type Route =
  | { name: 'patients' }
  | { name: 'patient', patientId: string }
  | { name: 'library', tab: 'devices' | 'sequences' | 'templates' }
  | { name: 'users' }
  | { name: 'members' }
  | { name: 'worklist' }
  | { name: 'pacs' }
  | { name: 'audit' }
  | { name: 'viewer', resultId?: string, blobs: string[] }
  | { name: 'not-found', path: string }

export function parseRoute (pathname: string, search: string): Route {
  const query = new URLSearchParams(search)
  const parts = pathname.split('/').filter((p) => p !== '').map((p) => { try { return decodeURIComponent(p) } catch { return p } })
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'patients')) return { name: 'patients' }
  if (parts[0] === 'patients' && parts.length === 2) return { name: 'patient', patientId: parts[1] }
  if (parts[0] === 'library' && parts.length === 1) {
    const tab = query.get('tab')
    return { name: 'library', tab: tab === 'sequences' || tab === 'templates' ? tab : 'devices' }
  }
  if (parts[0] === 'users' && parts.length === 1) return { name: 'users' }
  if (parts[0] === 'members' && parts.length === 1) return { name: 'members' }
  if (parts[0] === 'worklist' && parts.length === 1) return { name: 'worklist' }
  if (parts[0] === 'pacs' && parts.length === 1) return { name: 'pacs' }
  if (parts[0] === 'audit' && parts.length === 1) return { name: 'audit' }
  if (parts[0] === 'viewer' && parts.length <= 2) {
    return { name: 'viewer', resultId: parts[1], blobs: query.getAll('sha256').filter((s) => /^[0-9a-f]{64}$/.test(s)) }
  }
  return { name: 'not-found', path: pathname }
}

export class AppRouter extends EventTarget {
  route: Route = parseRoute(location.pathname, location.search)

  constructor () {
    super()
    window.addEventListener('popstate', () => { this.update() })
    // Same-origin links anywhere (also inside shadow roots) navigate without reloading the page.
    window.addEventListener('click', (event) => {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
      const anchor = event.composedPath().find((n): n is HTMLAnchorElement => n instanceof HTMLAnchorElement)
      if (anchor === undefined || anchor.target !== '' || anchor.hasAttribute('download') || anchor.origin !== location.origin) return
      if (anchor.pathname.startsWith('/api/')) return
      event.preventDefault()
      this.navigate(anchor.pathname + anchor.search)
    })
  }

  navigate (path: string, options: { replace?: boolean } = {}): void {
    if (path === location.pathname + location.search) return
    if (options.replace === true) history.replaceState(null, '', path)
    else history.pushState(null, '', path)
    this.update()
  }

  private update (): void {
    this.route = parseRoute(location.pathname, location.search)
    this.dispatchEvent(new Event('sh-route-change'))
  }
}
