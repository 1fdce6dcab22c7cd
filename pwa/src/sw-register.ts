// Registers the service worker that Workbox generated at build time (it precaches the app shell).
// Only in a production build, and only where the browser allows one (a secure context: localhost,
// or https with a certificate the device trusts).
import { Workbox } from 'workbox-window'

export function registerServiceWorker (): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator) || !window.isSecureContext) return
  const wb = new Workbox('/sw.js', { scope: '/' })
  wb.register().catch((err: Error) => { console.warn(`ScanHub: the app will not work offline: ${err.message}`) })
}
