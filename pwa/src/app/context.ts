// The services the app root provides to every element through @lit/context.
import { createContext } from '@lit/context'
import type { LabSession } from '../services/lab-session.ts'
import type { AppRouter } from './router.ts'

export const sessionContext = createContext<LabSession>(Symbol('scanhub-session'))
export const routerContext = createContext<AppRouter>(Symbol('scanhub-router'))
