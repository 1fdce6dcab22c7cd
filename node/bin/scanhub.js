#!/usr/bin/env node
// `scanhub` command: runs the TypeScript sources directly (tsx), so a checkout works after `npm install`
// with no build step.
import { register } from 'tsx/esm/api'

register()
await import('../cli/main.ts')
