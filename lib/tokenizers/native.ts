/**
 * Native encoders of the named tokenizers and of byte-level BPE tokenizer.json files (native/core/tokenizer):
 * the same ids as the JS tokenizers, which stay as their test oracle (test/native-tokenizers.test.ts), read
 * from the vocabulary data inside the same npm packages or from the file. Encoding a string is synchronous; batches can run off the JS thread.
 */
import * as fs from 'node:fs';
import { TraceIndexError } from '../errors';
import { addon, NativeByteLevelBpe, NativeEncodedBatch, NativeTexts, NativeTokenizerHandle, nativeError } from '../native';
import { requirePackage, resolvePackage } from './packages';
import type { TokenArray, TokenWidth } from './tokenizer';

export type NativeTokenizerName = 'cl100k_base' | 'o200k_base' | 'llama-2' | 'llama-3';

export interface NativeEncoder {
  /** Token ids of `text`, in an array of `width`. */
  encode(text: string): TokenArray;
  /** Many documents in one call, off the JS thread (`threads` > 1 encodes runs of documents in parallel). */
  encodeBatch(texts: NativeTexts, threads?: number): Promise<{ tokens: TokenArray; offsets: Float64Array }>;
  encodeBatchSync(texts: NativeTexts): { tokens: TokenArray; offsets: Float64Array };
}

/** Whether JS tokenizers were asked for instead (TRACEINDEX_JS_TOKENIZERS=1). */
export function jsTokenizersRequested(): boolean {
  return process.env.TRACEINDEX_JS_TOKENIZERS === '1';
}

const invalid = (message: string, cause?: unknown) =>
  new TraceIndexError('ERR_INVALID_ARGUMENT', message, cause === undefined ? undefined : { cause });

/** The string literal `const <name> = "..."` of a package file whose data is baked into its source. */
function bakedString(file: string, source: Buffer, name: string): Uint8Array {
  const marker = Buffer.from(`const ${name} = "`);
  const start = source.indexOf(marker);
  const end = start < 0 ? -1 : source.indexOf(0x22, start + marker.length);
  if (end < 0) throw invalid(`cannot find ${name} in ${file}: reinstall traceindex's dependencies`);
  return source.subarray(start + marker.length, end);
}

function packageFile(id: string): { file: string; source: Buffer } {
  const file = resolvePackage(id);
  try {
    return { file, source: fs.readFileSync(file) };
  } catch (err) {
    throw invalid(`cannot read ${id} (${(err as Error).message}): reinstall traceindex's dependencies`, err);
  }
}

async function loadHandle(name: NativeTokenizerName): Promise<NativeTokenizerHandle> {
  switch (name) {
    case 'cl100k_base':
    case 'o200k_base': {
      const ranks = requirePackage<{ bpe_ranks: string }>(`js-tiktoken/ranks/${name}`);
      return addon.loadNativeTokenizer(name, ranks.bpe_ranks);
    }
    case 'llama-3':
    case 'llama-2': {
      const { file, source } = packageFile(name === 'llama-3'
        ? 'llama3-tokenizer-js/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs'
        : 'llama-tokenizer-js/llama-tokenizer.js');
      return addon.loadNativeTokenizer(name, bakedString(file, source, 'llama_vocab_base64'), bakedString(file, source, 'llama_merges_binary'));
    }
  }
}

/** Loads the native encoder of `name`, producing token arrays of `width`. */
export function loadNativeEncoder(name: NativeTokenizerName, width: TokenWidth): Promise<NativeEncoder> {
  return encoderOf(() => loadHandle(name), width);
}

/** The native encoder of a tokenizer.json byte-level BPE (lib/tokenizers/named.ts, nativeByteLevelBpe). */
export function loadNativeByteLevelBpe(spec: NativeByteLevelBpe, width: TokenWidth): Promise<NativeEncoder> {
  return encoderOf(() => addon.loadByteLevelBpe(spec), width);
}

async function encoderOf(load: () => Promise<NativeTokenizerHandle>, width: TokenWidth): Promise<NativeEncoder> {
  let handle: NativeTokenizerHandle;
  try {
    handle = await load();
  } catch (err) {
    throw nativeError(err);
  }
  const batch = (b: NativeEncodedBatch) => b as { tokens: TokenArray; offsets: Float64Array };
  return Object.freeze({
    encode: (text: string) => addon.tokenizerEncode(handle, text, width),
    encodeBatch: async (texts: NativeTexts, threads = 1) => {
      try {
        return batch(await addon.tokenizerEncodeBatch(handle, texts, width, threads));
      } catch (err) {
        throw nativeError(err);
      }
    },
    encodeBatchSync: (texts: NativeTexts) => {
      try {
        return batch(addon.tokenizerEncodeBatchSync(handle, texts, width));
      } catch (err) {
        throw nativeError(err);
      }
    },
  });
}
