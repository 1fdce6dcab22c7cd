// ISMRMRD / MRD v1: the in-memory types, the binary headers, the XML header and the streaming
// protocol (grammar in PROTOCOL.md). Pure and isomorphic: no I/O, no Node APIs.
export type { Acquisition, AcquisitionHeader, EncodingCounters, ImageHeader } from './types.ts'
export { MrdProtocolError, IsmrmrdXmlError } from './errors.ts'
export type { MrdTypedArray, MrdTypedArrayConstructor } from './bytes.ts'
export {
  AcquisitionFlag, ImageFlag, flagBit, hasFlag, setFlag, clearFlag, flagsOf, acquisitionFlagNames
} from './flags.ts'
export type { AcquisitionFlagName, ImageFlagName } from './flags.ts'
export {
  ACQUISITION_HEADER_SIZE, ENCODING_COUNTERS_SIZE, ISMRMRD_VERSION, AcquisitionHeaderOffset, EncodingCountersOffset,
  emptyAcquisitionHeader, emptyEncodingCounters, writeAcquisitionHeader, readAcquisitionHeader, writeEncodingCounters,
  readEncodingCounters, encodeAcquisitionHeader, decodeAcquisitionHeader
} from './acquisition-header.ts'
export {
  IMAGE_HEADER_SIZE, ImageHeaderOffset, ImageDataType, ImageType, bytesPerPixel, emptyImageHeader, writeImageHeader,
  readImageHeader, encodeImageHeader, decodeImageHeader
} from './image-header.ts'
export { imageArrayType, isComplexDataType, imageElementCount } from './image.ts'
export type { MrdImage, MrdImageData } from './image.ts'
export {
  WAVEFORM_HEADER_SIZE, WaveformHeaderOffset, emptyWaveformHeader, writeWaveformHeader, readWaveformHeader,
  encodeWaveformHeader, decodeWaveformHeader
} from './waveform.ts'
export type { Waveform, WaveformHeader } from './waveform.ts'
export { parseXml, escapeXml, DEFAULT_XML_LIMITS } from './xml.ts'
export type { XmlElement, XmlParseLimits } from './xml.ts'
export {
  ISMRMRD_NAMESPACE, GYROMAGNETIC_RATIO_1H_HZ_PER_T, ENCODING_LIMIT_NAMES, TRAJECTORY_TYPES, MAX_PLAUSIBLE_FIELD_STRENGTH_T,
  PLAUSIBLE_LARMOR_HZ, FIELD_FREQUENCY_TOLERANCE, parseIsmrmrdXml, writeIsmrmrdXml, validateIsmrmrdHeader
} from './xml-header.ts'
export type {
  IsmrmrdHeader, SubjectInformation, StudyInformation, MeasurementInformation, AcquisitionSystemInformation, CoilLabel,
  ExperimentalConditions, Encoding, EncodingSpace, EncodingLimits, EncodingLimitName, Limit, TrajectoryType, ParallelImaging,
  SequenceParameters, UserParameters, UserParameter, Vector3, MrdWarning
} from './xml-header.ts'
export {
  MrdMessageId, CONFIG_FILE_NAME_SIZE, MESSAGE_ID_SIZE, LENGTH_PREFIX_SIZE, isConfigFileMessage, isConfigTextMessage,
  isHeaderMessage, isCloseMessage, isTextMessage, isAcquisitionMessage, isImageMessage, isWaveformMessage,
  encodeConfigFileMessage, encodeConfigTextMessage, encodeHeaderMessage, encodeTextMessage, encodeCloseMessage,
  encodeAcquisitionMessage, encodeImageMessage, encodeWaveformMessage, encodeMrdMessage, acquisitionPayloadSizes
} from './stream.ts'
export type {
  MrdMessage, MrdMessageType, MrdMessageIdValue, MrdConfigFileMessage, MrdConfigTextMessage, MrdHeaderMessage,
  MrdCloseMessage, MrdTextMessage, MrdAcquisitionMessage, MrdImageMessage, MrdWaveformMessage, TextMessageOptions
} from './stream.ts'
export { MrdStreamDecoder, DEFAULT_MRD_STREAM_LIMITS, decodeMrdStream } from './stream-decoder.ts'
export type { MrdStreamLimits, MrdStreamDecoderInit } from './stream-decoder.ts'
