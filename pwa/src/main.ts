// The app's entry: theme first (no flash of the wrong one), the service worker, then the root element.
import { initTheme } from './styles/theme-mode.ts'
import { registerServiceWorker } from './sw-register.ts'
import './app/sh-app.ts'

initTheme()
registerServiceWorker()
