/**
 * worker.terminate() while async native calls are in flight must not take the process down: Node completes
 * the pending pool work while the worker's environment shuts down, when JS can no longer run. Each async
 * entry point of the addon gets a child process whose worker threads open a small multi-shard index, keep
 * many calls of that entry point in flight and are terminated; a crash (abort, signal) fails the test
 * instead of killing ava.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex } from '../lib/index';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('worker-terminate');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

const ROOT = path.resolve(__dirname, '..', '..');
// The addon under test: this package's, or another build's root (to check that the test fails without the fix).
const ADDON_ROOT = process.env.TRACEINDEX_TERMINATE_ADDON_ROOT ?? ROOT;
const ROUNDS = 6;

const r = O.rng(777);
const DOCS = O.randomDocs(r, 120, 400, 5, 97);
let built: Promise<string> | undefined;
function index(): Promise<string> {
  built ??= (async () => {
    const out = path.join(scratch, 'idx');
    await buildIndex({ inputs: DOCS.map((d, i) => ({ text: Buffer.from(d).toString('latin1'), id: `d${i}` })), out, shardTokens: O.shardTokensFor(DOCS, 3) });
    return out;
  })();
  return built;
}

// Runs as the child's main thread (argv: method, index dir, scratch dir, rounds, addon root) and as its workers.
const CHILD = `
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
if (isMainThread) {
  const [method, dir, scratch, rounds, addonRoot] = process.argv.slice(2);
  (async () => {
    let inFlight = 0;
    for (let round = 0; round < Number(rounds); round++) {
      const w = new Worker(__filename, { workerData: { method, dir, scratch: path.join(scratch, 'r' + round), addonRoot } });
      await new Promise((resolve, reject) => {
        let told = false;
        w.once('error', reject);
        w.once('exit', (code) => { if (!told) reject(new Error('the worker exited with ' + code + ' before any call')); });
        w.once('message', (m) => {
          told = true;
          if (m.started > m.settled) inFlight++;
          w.terminate().then(resolve, reject);
        });
      });
    }
    console.log(JSON.stringify({ rounds: Number(rounds), inFlight }));
  })().catch((e) => { console.error(e); process.exit(3); });
} else {
  const { method, dir, scratch, addonRoot } = workerData;
  const addon = require(${JSON.stringify(require.resolve('node-gyp-build'))})(addonRoot);
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const specs = m.shards.map((s) => ({ dir: path.join(dir, s.dir), tokenWidth: m.tokenWidth, tokens: s.tokens, documents: s.documents, vocabSize: m.vocabSize }));
  const t = Uint32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2);
  const o = Uint32Array.of(0, 3, 8, 12);
  const t1 = Uint32Array.of(1, 2, 3), o1 = Uint32Array.of(0, 3);
  const fail = (e) => setImmediate(() => { throw e; });  // an 'error' event in the main thread
  fs.mkdirSync(scratch, { recursive: true });
  let built = 0;
  const shardJob = () => {
    const tokens = Uint8Array.of(1, 2, 3, 255, 4, 5, 255);
    return { dir: path.join(scratch, 'b' + built++), tokens, tokenWidth: 1, docStarts: Float64Array.of(0, 4, 7),
             metaOffsets: Float64Array.of(0, 2, 4), metaBlob: Buffer.from('{}{}'), vocabSize: 255, threads: 1 };
  };
  (async () => {
    const n = await addon.NativeIndex.open(specs);
    const calls = {
      open: () => addon.NativeIndex.open(specs),
      count: () => n.count(t, o),
      locate: () => n.locate(t1, o1, 0, 5, 2, 1 << 20, true),
      longestMatch: () => n.longestMatch(t, o),
      nextTokens: () => n.nextTokens(t, o),
      trace: () => n.trace(t, o, { maxDocuments: 2 }),
      scoreSpans: () => n.scoreSpans(t, o, undefined, {}),
      documents: () => n.documents(Float64Array.of(0, 1, 2), Number.MAX_SAFE_INTEGER, false),
      findDocument: () => n.findDocument('{"id":"none'),
      sampleSpans: () => n.sampleSpans(Uint32Array.of(2, 4), 50, 7),
      verify: () => n.verify(),
      buildShard: () => addon.buildShard(shardJob()),
      checksumFile: () => addon.checksumFile(path.join(specs[0].dir, 'tokens.bin')),
      upgradeShard: () => addon.upgradeShard({ ...specs[0], write: false }),
    };
    const call = calls[method];
    let started = 0, settled = 0, told = false;
    for (;;) {
      while (started - settled < (method === 'buildShard' ? 8 : 64)) {
        started++;
        call().then(() => { settled++; }, fail);
      }
      if (!told) { told = true; parentPort.postMessage({ started, settled }); }
      await new Promise((resolve) => setImmediate(resolve));
    }
  })().catch(fail);
}
`;

const script = path.join(scratch, 'child.js');
test.before(() => fs.writeFileSync(script, CHILD));

const METHODS = ['open', 'count', 'locate', 'longestMatch', 'nextTokens', 'trace', 'scoreSpans', 'documents', 'findDocument',
  'sampleSpans', 'verify', 'buildShard', 'checksumFile', 'upgradeShard'];

for (const method of METHODS) {
  test(`worker.terminate() with ${method} calls in flight leaves the process running`, async (t) => {
    const dir = await index();
    const { code, signal, stdout, stderr } = await new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [script, method, dir, path.join(scratch, method), String(ROUNDS), ADDON_ROOT], { timeout: 120_000 },
        (err, stdout, stderr) => resolve({ code: err ? (err as { code?: number }).code ?? null : 0, signal: err ? (err as { signal?: string }).signal ?? null : null, stdout, stderr }));
    });
    t.is(signal, null, `the child died of ${signal}: ${stderr}`);
    t.is(code, 0, stderr);
    const report = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
    t.is(report.rounds, ROUNDS);
    // The test means something only if calls were pending when the worker was terminated.
    t.true(report.inFlight > 0, `no round had calls in flight: ${stdout}`);
  });
}
