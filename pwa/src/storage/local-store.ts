// Small JSON values in localStorage: what the page must know before anything else loads and while
// the hub is out of reach (its pairing with the lab, its peer key, the session, the sync ledger).
// Storage can be full or disabled (private windows): reads then find nothing and writes are dropped.

export const KEYS = {
  /** where pages before pairing kept the lab key; removed at start */
  bootstrap: 'scanhub:bootstrap',
  pairing: 'scanhub:pairing',
  peerKey: 'scanhub:peer-key',
  session: 'scanhub:session',
  authState: 'scanhub:auth-state',
  theme: 'scanhub:theme',
  docs: (namespace: string) => `${namespace}:docs`,
  ledger: (namespace: string) => `${namespace}:ledger`
} as const

export function readJson<T> (key: string): T | undefined {
  try {
    const text = localStorage.getItem(key)
    return text === null ? undefined : JSON.parse(text) as T
  } catch {
    return undefined
  }
}

export function writeJson (key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value))
  } catch {
    // Full or unavailable: the value is kept in memory for this page only.
  }
}

export function remove (key: string): void {
  try {
    localStorage.removeItem(key)
  } catch {
    // Storage disabled: nothing was kept there either.
  }
}
