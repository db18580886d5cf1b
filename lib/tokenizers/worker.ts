/** Worker thread of ./pool.ts: loads the tokenizer named in workerData and encodes batches. */
import { parentPort, workerData } from 'node:worker_threads';
import { TraceIndexError } from '../errors';
import { loadTokenizer } from './named';

const { spec, fingerprint } = workerData as { spec: string; fingerprint: string };
// A tokenizer.json is read again here: one changed since the build loaded it would make ids that do not match
// the fingerprint the manifest records.
const ready = loadTokenizer(spec).then((t) => {
  if (t.fingerprint !== fingerprint)
    throw new TraceIndexError('ERR_TOKENIZER_MISMATCH', `tokenizer ${spec} changed during the build (fingerprint ${t.fingerprint}, not ${fingerprint}): build again`);
  return t;
});
ready.catch(() => {});  // reported with each batch

parentPort!.on('message', async ({ id, texts }: { id: number; texts: string[] }) => {
  try {
    const t = await ready;
    const started = performance.now();
    const tokens = texts.map((x) => t.encode(x));
    const seconds = (performance.now() - started) / 1000;
    parentPort!.postMessage({ id, tokens, seconds }, tokens.map((a) => a.buffer as ArrayBuffer).filter((b, i, all) => all.indexOf(b) === i && b.byteLength > 0));
  } catch (err) {
    const e = err as Error & { code?: string };
    parentPort!.postMessage({ id, error: { code: e.code, message: e.message } });
  }
});
