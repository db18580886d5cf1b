/**
 * The API's package metadata and resource handling: `version` is package.json's, read at load; an Index
 * closes through Symbol.dispose and Symbol.asyncDispose, so `using` and `await using` work.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, Index, openIndex, version } from '../lib/index';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('api-surface');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

let built: Promise<string> | undefined;
const dir = () => (built ??= buildIndex({ inputs: [{ text: 'abcab' }], out: path.join(scratch, 'idx') }).then((r) => r.out));

test('version is the version in package.json', (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(O.REPO, 'package.json'), 'utf8'));
  t.is(version, pkg.version);
  t.regex(version, /^\d+\.\d+\.\d+/);
});

// The symbols as Node defines them where the engine has none (what lib looks up too).
const dispose = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('nodejs.dispose');
const asyncDispose = (Symbol as { asyncDispose?: symbol }).asyncDispose ?? Symbol.for('nodejs.asyncDispose');

test('index[Symbol.dispose]() and index[Symbol.asyncDispose]() close the index', async (t) => {
  const a = await openIndex(await dir());
  t.false(a.closed);
  t.is(await a.count('ab'), 2);
  (a as unknown as Record<symbol, () => void>)[dispose]();
  t.true(a.closed);
  await t.throwsAsync(a.count('ab'), { code: 'ERR_CLOSED' });
  const b = await openIndex(await dir());
  const p = (b as unknown as Record<symbol, () => Promise<void>>)[asyncDispose]();
  t.true(p instanceof Promise);
  await p;
  t.true(b.closed);
  // Non-enumerable, like class methods; disposing twice is no error (close is idempotent).
  t.false(Object.getOwnPropertyDescriptor(Index.prototype, dispose)!.enumerable);
  t.notThrows(() => (b as unknown as Record<symbol, () => void>)[dispose]());
});

test('`using` and `await using` close the index at the end of the scope', async (t) => {
  let kept: Index;
  {
    using idx = await openIndex(await dir());
    kept = idx;
    t.is(idx.countSync('ab'), 2);
  }
  t.true(kept.closed);
  {
    await using idx = await openIndex(await dir());
    kept = idx;
    t.false(idx.closed);
  }
  t.true(kept.closed);
});
