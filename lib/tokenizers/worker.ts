/** Worker thread of ./pool.ts: loads the tokenizer named in workerData and encodes batches. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadTokenizer } from './named';

const ready = loadTokenizer((workerData as { spec: string }).spec);

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
