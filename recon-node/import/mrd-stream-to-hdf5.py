#!/usr/bin/python3
"""Test utility: convert an MRD v1 stream file into an ISMRMRD HDF5 file.

ScanHub stores and streams raw data as the MRD v1 streaming protocol (protocol/mrd/PROTOCOL.md).
Debian's ismrmrd tools (ismrmrd_recon_cartesian_2d, ismrmrd_info) read HDF5 only; the tests use this
script, an implementation independent of ScanHub's own HDF5 writer (node/exchange/ismrmrd-hdf5.ts),
to hand our streams to those tools and to check that writer against: it writes /<dataset>/xml and /<dataset>/data with the compound type libismrmrd itself
writes (head packed in 340 bytes at offset 0, traj and data as VLEN float32 at 344 and 360, 376
bytes per row). It is not part of ScanHub's runtime.

Run with Debian's python (it has h5py and numpy):
    /usr/bin/python3 mrd-stream-to-hdf5.py input.mrd output.h5 [--dataset dataset]

Reads CONFIG_FILE, CONFIG_TEXT and TEXT (ignored), HEADER, ACQUISITION, WAVEFORM (skipped) and
CLOSE; refuses images, unknown ids, header versions other than 1 and truncated streams.
"""
import argparse
import struct
import sys

import h5py
import numpy as np

CONFIG_FILE, CONFIG_TEXT, HEADER, CLOSE, TEXT = 1, 2, 3, 4, 5
ACQUISITION, IMAGE, WAVEFORM = 1008, 1022, 1026

ENCODING_COUNTERS = np.dtype({
    'names': ['kspace_encode_step_1', 'kspace_encode_step_2', 'average', 'slice', 'contrast',
              'phase', 'repetition', 'set', 'segment', 'user'],
    'formats': ['<u2'] * 9 + [('<u2', (8,))],
    'offsets': [0, 2, 4, 6, 8, 10, 12, 14, 16, 18],
    'itemsize': 34,
})

# ISMRMRD_AcquisitionHeader as ismrmrd.h packs it (#pragma pack(2)); the same bytes as on the wire.
ACQUISITION_HEADER = np.dtype({
    'names': ['version', 'flags', 'measurement_uid', 'scan_counter', 'acquisition_time_stamp',
              'physiology_time_stamp', 'number_of_samples', 'available_channels', 'active_channels',
              'channel_mask', 'discard_pre', 'discard_post', 'center_sample', 'encoding_space_ref',
              'trajectory_dimensions', 'sample_time_us', 'position', 'read_dir', 'phase_dir',
              'slice_dir', 'patient_table_position', 'idx', 'user_int', 'user_float'],
    'formats': ['<u2', '<u8', '<u4', '<u4', '<u4', ('<u4', (3,)), '<u2', '<u2', '<u2', ('<u8', (16,)),
                '<u2', '<u2', '<u2', '<u2', '<u2', '<f4', ('<f4', (3,)), ('<f4', (3,)), ('<f4', (3,)),
                ('<f4', (3,)), ('<f4', (3,)), ENCODING_COUNTERS, ('<i4', (8,)), ('<f4', (8,))],
    'offsets': [0, 2, 10, 14, 18, 22, 34, 36, 38, 40, 168, 170, 172, 174, 176, 178, 182, 194, 206,
                218, 230, 242, 276, 308],
    'itemsize': 340,
})
assert ACQUISITION_HEADER.itemsize == 340

# The row of /dataset/data as libismrmrd (dataset.c) lays it out: head, then two hvl_t of 16 bytes.
ACQUISITION_ROW = np.dtype({
    'names': ['head', 'traj', 'data'],
    'formats': [ACQUISITION_HEADER, h5py.vlen_dtype(np.dtype('<f4')), h5py.vlen_dtype(np.dtype('<f4'))],
    'offsets': [0, 344, 360],
    'itemsize': 376,
})


class StreamError(Exception):
    pass


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n, what):
        if self.pos + n > len(self.data):
            raise StreamError('stream truncated at offset %d inside %s' % (self.pos, what))
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def u16(self, what):
        return struct.unpack('<H', self.take(2, what))[0]

    def u32(self, what):
        return struct.unpack('<I', self.take(4, what))[0]


def read_stream(data):
    """Returns (xml, [(head_bytes, traj, data)]) of an MRD v1 stream."""
    reader = Reader(data)
    xml = None
    acquisitions = []
    while reader.pos < len(data):
        start = reader.pos
        message_id = reader.u16('a message id')
        if message_id == CONFIG_FILE:
            reader.take(1024, 'CONFIG_FILE')
        elif message_id in (CONFIG_TEXT, HEADER, TEXT):
            length = reader.u32('a text length')
            text = reader.take(length, 'text')
            if message_id == HEADER:
                xml = text[:-1] if text.endswith(b'\0') else text
        elif message_id == CLOSE:
            pass
        elif message_id == ACQUISITION:
            head = reader.take(340, 'an acquisition header')
            record = np.frombuffer(head, dtype=ACQUISITION_HEADER)[0]
            if record['version'] != 1:
                raise StreamError('acquisition at offset %d has header version %d' % (start, record['version']))
            samples = int(record['number_of_samples'])
            channels = int(record['active_channels'])
            dims = int(record['trajectory_dimensions'])
            traj = np.frombuffer(reader.take(4 * dims * samples, 'a trajectory'), dtype='<f4')
            values = np.frombuffer(reader.take(8 * channels * samples, 'acquisition data'), dtype='<f4')
            acquisitions.append((head, traj, values))
        elif message_id == WAVEFORM:
            head = reader.take(40, 'a waveform header')
            samples, channels = struct.unpack_from('<HH', head, 28)
            reader.take(4 * samples * channels, 'waveform data')
        elif message_id == IMAGE:
            raise StreamError('image messages are not converted (offset %d)' % start)
        else:
            raise StreamError('unknown message id %d at offset %d' % (message_id, start))
    if xml is None:
        raise StreamError('the stream has no HEADER message')
    return xml, acquisitions


def write_hdf5(path, group, xml, acquisitions):
    with h5py.File(path, 'w') as f:
        g = f.require_group(group)
        # A one-element variable-length ASCII string, as libismrmrd writes the header.
        xml_type = h5py.string_dtype('ascii')
        g.create_dataset('xml', shape=(1,), dtype=xml_type, data=np.array([xml], dtype=object))
        rows = np.zeros(len(acquisitions), dtype=ACQUISITION_ROW)
        for i, (head, traj, values) in enumerate(acquisitions):
            rows[i]['head'] = np.frombuffer(head, dtype=ACQUISITION_HEADER)[0]
            rows[i]['traj'] = np.array(traj, dtype='<f4')
            rows[i]['data'] = np.array(values, dtype='<f4')
        g.create_dataset('data', data=rows, maxshape=(None,), chunks=(1,))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('input', help='MRD v1 stream file')
    parser.add_argument('output', help='ISMRMRD HDF5 file to write')
    parser.add_argument('--dataset', default='dataset', help='group name (default: dataset)')
    args = parser.parse_args(argv)
    with open(args.input, 'rb') as f:
        data = f.read()
    try:
        xml, acquisitions = read_stream(data)
    except StreamError as err:
        print('mrd-stream-to-hdf5: %s: %s' % (args.input, err), file=sys.stderr)
        return 2
    write_hdf5(args.output, args.dataset, xml, acquisitions)
    print('mrd-stream-to-hdf5: %d acquisitions written to %s' % (len(acquisitions), args.output))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
