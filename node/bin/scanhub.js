#!/usr/bin/env -S node --max-semi-space-size=2
// `scanhub` command: node/cli/main.ts, run from its compiled module (node-bundle.js compiles it on
// first use and whenever a source is newer), so a checkout works after `npm install` with no build step.
//
// The V8 flag (also in package.json's start and bench scripts): a young generation of 2 MiB semi-spaces
// instead of up to 16. A peer streams raw data through buffers that die young; small semi-spaces are
// scavenged more often, which frees those buffers sooner and keeps the heap some 25 MiB smaller, and
// was faster too in `npm run bench` (b).
import { importEntry } from './node-bundle.js'

await importEntry('scanhub')
