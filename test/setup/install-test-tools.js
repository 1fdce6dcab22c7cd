#!/usr/bin/env node
// `npm test`'s pretest step: makes sure the external tools the tests check ScanHub against are on this
// machine. As root with apt-get it installs what is missing from Debian's packages; otherwise it names
// exactly what to install and the tests that need a missing tool skip, saying so.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/** Debian package → a file it installs, to tell whether it is there. */
const TOOLS = [
  ['bart', '/usr/bin/bart'],
  ['ismrmrd-tools', '/usr/bin/ismrmrd_recon_cartesian_2d'],
  ['dicom3tools', '/usr/bin/dciodvfy'],
  ['dcmtk', '/usr/bin/dcmdump'],
  ['dcm2niix', '/usr/bin/dcm2niix'],
  ['python3-pydicom', '/usr/lib/python3/dist-packages/pydicom/__init__.py'],
  ['python3-h5py', '/usr/lib/python3/dist-packages/h5py/__init__.py'],
  ['python3-numpy', '/usr/lib/python3/dist-packages/numpy/__init__.py'],
  ['socat', '/usr/bin/socat'],
  ['chromium', '/usr/bin/chromium'],
  ['iproute2', '/usr/sbin/ip'],
  ['curl', '/usr/bin/curl'],
  ['libnss3-tools', '/usr/bin/certutil'],
  // a real PACS for the DICOM networking tests (C-ECHO, C-STORE) and its DICOMweb plugin (STOW-RS, QIDO-RS)
  ['orthanc', '/usr/sbin/Orthanc'],
  ['orthanc-dicomweb', '/usr/share/orthanc/plugins/libOrthancDicomWeb.so']
]

const missing = TOOLS.filter(([, file]) => !existsSync(file)).map(([pkg]) => pkg)
if (missing.length === 0) {
  console.log('test tools: all present (' + TOOLS.map(([p]) => p).join(', ') + ')')
  process.exit(0)
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0
if (!isRoot || !hasApt) {
  console.warn('test tools missing: ' + missing.join(' '))
  console.warn('install them with:  sudo apt-get install -y ' + missing.join(' '))
  console.warn('tests that need them will be skipped and say so.')
  process.exit(0)
}

console.log('test tools: installing ' + missing.join(' ') + ' from Debian')
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
try {
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env })
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env })
} catch (err) {
  console.warn('test tools: apt-get failed (' + err.message + '); tests that need ' + missing.join(' ') + ' will be skipped')
}
