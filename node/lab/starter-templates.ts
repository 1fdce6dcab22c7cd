// The exam templates a new lab starts with, so that a first exam is one click from a patient and one
// more to run: a head examination (localiser, T1-weighted gradient echo, T2-weighted turbo spin echo)
// and a phantom QA. They use the built-in sequences at their default protocols (node/lab/seed-sequences.ts),
// chosen to run in seconds on the virtual scanner, and no device: "any scanner" is resolved when the
// exam runs (protocol/scanner-choice.ts).
//
// The hub gives them once. Their ids are fixed, so that two peers seeding at once converge to one copy,
// and the lab's meta records that they were given, so that a template a user deleted stays deleted.
import type { ExamTemplateTree, StarterTemplate, TaskTemplateNode, WorkflowTemplateNode } from '../../protocol/lab/index.ts'
import type { Calibration } from '../../protocol/lab/index.ts'
import type { PeerContext } from '../peer.ts'

interface Scan {
  /** the id's part after the exam template's: stable, never shown */
  key: string
  name: string
  description: string
  /** a built-in sequence's id in the library */
  sequenceId: string
  calibrations?: Calibration[]
  /** the reconstruction pipeline (protocol/reconstruction-pipelines.ts) that fits the sequence */
  pipeline: string
}

/** A workflow of one acquisition and its reconstruction, the reconstruction's input set to the acquisition. */
function scanWorkflow (examKey: string, scan: Scan): WorkflowTemplateNode {
  const id = `starter-${examKey}-${scan.key}`
  const acquisition: TaskTemplateNode = {
    id: `${id}-acquisition`,
    name: scan.name,
    description: scan.description,
    type: 'ACQUISITION',
    parameters: { sequenceId: scan.sequenceId, calibrations: scan.calibrations ?? [] }
  }
  const reconstruction: TaskTemplateNode = {
    id: `${id}-reconstruction`,
    name: `${scan.name} images`,
    description: `Images of ${scan.name}`,
    type: 'RECONSTRUCTION',
    parameters: { pipeline: scan.pipeline, inputTaskId: acquisition.id }
  }
  return { id, name: scan.name, description: scan.description, tasks: [acquisition, reconstruction] }
}

function examTemplate (key: string, name: string, description: string, scans: Scan[]): StarterTemplate {
  const tree: ExamTemplateTree = { id: `starter-${key}`, name, description, workflows: scans.map((s) => scanWorkflow(key, s)) }
  return { key, tree }
}

export const STARTER_TEMPLATES: readonly StarterTemplate[] = Object.freeze([
  examTemplate('head', 'Head examination', 'Localiser, T1-weighted gradient echo and T2-weighted turbo spin echo, each reconstructed', [
    {
      key: 'localiser',
      name: 'Localiser',
      description: 'Single-slice low-resolution gradient echo, after finding the Larmor frequency',
      sequenceId: 'builtin-gre',
      calibrations: ['FREQUENCY'],
      pipeline: 'cartesian'
    },
    { key: 't1', name: 'T1-weighted GRE', description: 'Multi-slice spoiled gradient echo (FLASH)', sequenceId: 'builtin-gre-multislice', pipeline: 'cartesian' },
    { key: 't2', name: 'T2-weighted TSE', description: 'Turbo spin echo, 8 echoes per excitation, TR 2 s', sequenceId: 'builtin-tse', pipeline: 'cartesian' }
  ]),
  examTemplate('phantom-qa', 'Phantom QA', 'Calibrations, a gradient echo and a single-shot EPI of a phantom, for daily quality assurance', [
    {
      key: 'gre',
      name: 'QA gradient echo',
      description: 'Frequency, flip angle and shims calibrated, then a gradient echo for SNR and uniformity',
      sequenceId: 'builtin-gre',
      calibrations: ['FREQUENCY', 'FLIP_ANGLE', 'SHIM'],
      pipeline: 'cartesian'
    },
    { key: 'epi', name: 'QA EPI', description: 'Single-shot EPI for ghosting and distortion', sequenceId: 'builtin-epi', pipeline: 'epi' }
  ])
])

/** Gives the lab the starter templates it was never given; returns the keys added. Run by the hub. */
export async function seedStarterTemplates (context: Pick<PeerContext, 'lab' | 'actor' | 'docs' | 'log'>): Promise<string[]> {
  const added = context.lab.seedStarterTemplates(STARTER_TEMPLATES, context.actor)
  if (added.length === 0) return added
  await context.docs.flush()
  context.log(`templates: the lab starts with ${added.map((key) => `"${STARTER_TEMPLATES.find((s) => s.key === key)?.tree.name ?? key}"`).join(', ')} (Library → Templates)`)
  return added
}
