#!/usr/bin/env node
// `scanhub` command: node/cli/main.ts, run from its compiled module (node-bundle.js compiles it on
// first use and whenever a source is newer), so a checkout works after `npm install` with no build step.
import { importEntry } from './node-bundle.js'

await importEntry('scanhub')
