// The part of dcmjs 0.51 that ScanHub uses. dcmjs ships no type declarations; these follow its
// build/dcmjs.es.js (DicomMessage.readFile, DicomDict.write, DicomMetaDictionary) and only claim what
// the code there does.
declare module 'dcmjs' {
  /** One element in dcmjs's "DICOM JSON model" form, keyed by an 8-digit hex tag such as '00100010'. */
  export interface DenaturalizedElement {
    vr: string
    Value?: unknown[]
  }

  /** A dataset keyed by 8-digit hex tags ('00100010'). */
  export type DenaturalizedDataset = Record<string, DenaturalizedElement>

  /**
   * A dataset keyed by DICOM keywords ('PatientName'). A single value is stored bare, several as an
   * array, a sequence as an array of datasets, an empty element as null. Elements whose VR differs from
   * the dictionary's (or whose dictionary VR is ambiguous, such as 'ox' for PixelData) have their VR in
   * `_vrMap`. Elements missing from the dictionary keep their hex tag as the key.
   */
  export interface NaturalDataset {
    [keyword: string]: unknown
    _vrMap?: Record<string, string>
  }

  /** A dictionary entry: tag is punctuated, '(0010,0010)'; vr may be ambiguous ('ox', 'xs', 'lt', 'up'). */
  export interface DictionaryEntry {
    tag: string
    vr: string
    vm: string
    name: string
    version?: string
  }

  export interface ReadFileOptions {
    ignoreErrors?: boolean
    untilTag?: string | null
    includeUntilTagValue?: boolean
    noCopy?: boolean
    forceStoreRaw?: boolean
  }

  export interface WriteOptions {
    allowInvalidVRLength?: boolean
    fragmentMultiframe?: boolean
  }

  export interface DicomDictInstance {
    meta: DenaturalizedDataset
    dict: DenaturalizedDataset
    /** The whole Part 10 file: preamble, 'DICM', file meta (explicit VR LE), then the dataset. */
    write (options?: WriteOptions): ArrayBuffer
  }

  export interface DicomDictConstructor {
    new (meta: DenaturalizedDataset): DicomDictInstance
  }

  export interface DicomMessageStatic {
    /** Parses a Part 10 file; throws a plain Error when the preamble or the meta group is wrong. */
    readFile (buffer: ArrayBuffer, options?: ReadFileOptions): DicomDictInstance
  }

  export interface DicomMetaDictionaryStatic {
    naturalizeDataset (dataset: DenaturalizedDataset): NaturalDataset
    denaturalizeDataset (dataset: NaturalDataset): DenaturalizedDataset
    /** '0010,0010' style lookups: keys are punctuated tags, '(0010,0010)'. */
    dictionary: Record<string, DictionaryEntry | undefined>
    /** Lookups by keyword, 'PatientName'. */
    nameMap: Record<string, DictionaryEntry | undefined>
    punctuateTag (rawTag: string): string | undefined
    unpunctuateTag (tag: string): string
  }

  export const data: {
    DicomDict: DicomDictConstructor
    DicomMessage: DicomMessageStatic
    DicomMetaDictionary: DicomMetaDictionaryStatic
  }

  export type LogLevel = 0 | 1 | 2 | 3 | 4 | 5 | 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'

  /** A loglevel logger (numeric levels: 0 trace … 3 warn, 4 error, 5 silent). */
  export interface Logger {
    getLevel (): 0 | 1 | 2 | 3 | 4 | 5
    setLevel (level: LogLevel, persist?: boolean): void
    /** dcmjs logs VR validation under 'validation.dcmjs'. */
    getLogger (name: string): Logger
  }

  export const log: Logger
}
