/**
 * Per-query time limits and AbortSignal: a long native call stops with ERR_TIMEOUT / ERR_ABORTED and the index
 * keeps answering; with several shards the fan-out over the pool gives the same answers as one shard.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, openIndex } from '../lib/index';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('timeouts');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

const r = O.rng(9);
const WORDS = Array.from({ length: 400 }, () => Array.from({ length: O.randInt(r, 2, 7) }, () => String.fromCharCode(97 + O.randInt(r, 0, 26))).join(''));
const TEXTS = Array.from({ length: 300 }, () => Array.from({ length: O.randInt(r, 200, 1200) }, () => O.pick(r, WORDS)).join(' '));

// One build per index, shared by the tests that run at once (a second build of the same target is refused).
const built = new Map<number, Promise<unknown>>();

async function index(shards: number) {
  const out = path.join(scratch, `idx-${shards}`);
  if (!built.has(shards)) {
    const total = TEXTS.reduce((t, x) => t + x.length + 1, 0);
    built.set(shards, buildIndex({ inputs: TEXTS.map((text, i) => ({ text, id: `d${i}` })), out, shardTokens: Math.ceil(total / shards) + 20_000 }));
  }
  await built.get(shards);
  return openIndex(out);
}

// An output long enough that tracing it takes well over the limits used below.
const LONG = Array.from({ length: 400 }, (_, i) => TEXTS[i % TEXTS.length].slice(0, 3000) + ' zebra ').join('');

test('timeoutMs stops a long trace with ERR_TIMEOUT; the index keeps answering', async (t) => {
  const idx = await index(4);
  t.true(idx.info.shards.length >= 3);
  const started = performance.now();
  await t.throwsAsync(idx.trace(LONG, { timeoutMs: 5 }), { code: 'ERR_TIMEOUT' });
  t.true(performance.now() - started < 2000, 'stopped early');
  const q = TEXTS[3].slice(10, 40);
  t.is(await idx.count(q, { timeoutMs: 10_000 }), O.count(TEXTS.map(O.utf8), O.utf8(q)));
  idx.close();
});

test('an AbortSignal stops a running trace with ERR_ABORTED; an aborted signal rejects at once', async (t) => {
  const idx = await index(4);
  const c = new AbortController();
  const running = idx.traceBatch([LONG, LONG], { signal: c.signal });
  setTimeout(() => c.abort(), 5);
  await t.throwsAsync(running, { code: 'ERR_ABORTED' });
  await t.throwsAsync(idx.countBatch(['abc'], { signal: c.signal }), { code: 'ERR_ABORTED' });
  await t.throwsAsync(idx.count('abc', { timeoutMs: -1 }), { code: 'ERR_INVALID_ARGUMENT' });
  idx.close();
});

test('queries fanned out over shards equal the one-shard answers', async (t) => {
  const one = await index(1);
  const many = await index(6);
  t.true(many.info.shards.length >= 5);
  const rr = O.rng(4);
  const queries = Array.from({ length: 300 }, () => {
    const d = O.pick(rr, TEXTS);
    const a = O.randInt(rr, 0, d.length - 30);
    return d.slice(a, a + O.randInt(rr, 1, 30));
  });
  t.deepEqual(Array.from(await many.countBatch(queries)), Array.from(await one.countBatch(queries)));
  const outputs = queries.slice(0, 40).map((q, i) => `${q} ${WORDS[i]} ${queries[i + 40]}`);
  const strip = (rs: Awaited<ReturnType<typeof one.traceBatch>>) => rs.map((x) => x.spans.map((s) => [s.start, s.end, s.count, s.bci]));
  t.deepEqual(strip(await many.traceBatch(outputs)), strip(await one.traceBatch(outputs)));
  t.deepEqual(strip(await many.traceBatch(outputs, { delimiters: [' '] })), strip(await one.traceBatch(outputs, { delimiters: [' '] })));
  const shield = async (i: typeof one) => (await i.shieldBatch(outputs, { tau: 30, mode: { window: 6 } })).map((x) => [x.refuse, x.maxBci]);
  t.deepEqual(await shield(many), await shield(one));
  one.close();
  many.close();
});

// Pool work comes back as a promise; one made in another realm (the addon loaded outside the vm context the
// library runs in, as Jest does) is still pending work: the signal and the deadline must reach its flag.
test('a pending call whose promise comes from another realm still gets its abort and its deadline', async (t) => {
  const { Call } = await import('../lib/query/core');
  const vm = await import('node:vm');
  const ForeignPromise = vm.runInNewContext('Promise') as PromiseConstructor;
  t.false(new ForeignPromise(() => {}) instanceof Promise, 'the promise is foreign');
  // The fake native call resolves, 60 ms later, with what its cancel flag says then.
  const later = (_n: unknown, flag?: Uint8Array) => new ForeignPromise<number>((resolve) => setTimeout(() => resolve(flag ? flag[0] : -1), 60));
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 10);
  const core = { enter() {}, leave() {} } as never;
  t.is(await new Call(core, {} as never, ac.signal).run(later), 1, 'the abort set the flag');
  t.is(await new Call(core, {} as never, undefined, 10).run(later), 1, 'the deadline set the flag');
  t.is(await new Call(core, {} as never, undefined, 1000).run(later), 0, 'nothing set it');
});
