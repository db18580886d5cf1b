/** traceindex export-surprisal: the surprisal table −log P_train(t) as a NumPy .npy file. */
import { Command, INDEX_FLAGS, numberFlag, print, UsageError, withIndex, writeOutput } from '../command';

/** The .npy bytes of a float32 vector (format version 1.0, little-endian, shape (n,)). */
function npy(table: Float32Array): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${table.length},), }`;
  // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = header + ' '.repeat(pad % 64) + '\n';
  const preamble = Buffer.alloc(10);
  preamble.write('\x93NUMPY', 0, 'latin1');
  preamble[6] = 1;
  preamble[7] = 0;
  preamble.writeUInt16LE(header.length, 8);
  return Buffer.concat([preamble, Buffer.from(header, 'latin1'), Buffer.from(table.buffer, table.byteOffset, table.byteLength)]);
}

export const exportSurprisal: Command = {
  name: 'export-surprisal',
  summary: 'write −log P_train(t) for every token id as a NumPy .npy file (float32, shape (vocabSize,))',
  usage: 'DIR --out FILE.npy [--log-base B] [--json]',
  options: ['out', 'log-base', 'json', ...INDEX_FLAGS],
  async run(args, flags) {
    if (typeof flags.out !== 'string') throw new UsageError('export-surprisal needs --out FILE.npy');
    const out = flags.out;
    const logBase = numberFlag(flags, 'log-base');
    await withIndex(args[0], flags, async (idx) => {
      const table = await idx.surprisalTable({ logBase });
      writeOutput(out, npy(table));
      print(flags, { out, entries: table.length }, `wrote ${table.length} surprisal values (float32) to ${out}`);
    });
  },
};
