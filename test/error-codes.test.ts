/**
 * One list of error codes: ERROR_CODES (lib/errors.ts). The codes the C++ core and binding raise are a subset
 * of it, every code lib/ names is in it, and the TSDoc table on ERROR_CODES documents each code exactly once.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ERROR_CODES, TraceIndexError } from '../lib/index';
import * as O from './helpers/oracle';

function files(dir: string, ext: RegExp): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p, ext) : ext.test(e.name) ? [p] : [];
  });
}

/** Every "ERR_..." literal in the files (quoted with " in C++, ' or " in TypeScript). */
function codesIn(paths: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const f of paths) for (const m of fs.readFileSync(f, 'utf8').matchAll(/["'](ERR_[A-Z_]+)["']/g)) if (!found.has(m[1])) found.set(m[1], f);
  return found;
}

test('ERROR_CODES: distinct, ERR_ codes, including ERR_INTERNAL and ERR_TIMEOUT; TraceIndexError carries one', (t) => {
  t.is(new Set(ERROR_CODES).size, ERROR_CODES.length);
  for (const c of ERROR_CODES) t.regex(c, /^ERR_[A-Z_]+$/);
  t.true(ERROR_CODES.includes('ERR_INTERNAL'));
  t.true(ERROR_CODES.includes('ERR_TIMEOUT'));
  t.is(new TraceIndexError('ERR_IO', 'x').code, 'ERR_IO');
});

test('the codes of native/core/error.hpp are a subset of ERROR_CODES', (t) => {
  const hpp = fs.readFileSync(path.join(O.REPO, 'native', 'core', 'error.hpp'), 'utf8');
  const declared = [...hpp.matchAll(/inline constexpr const char\* k\w+ = "(ERR_[A-Z_]+)"/g)].map((m) => m[1]);
  t.true(declared.length >= 9, `parsed ${declared.length} codes from error.hpp`);
  t.deepEqual(declared.filter((c) => !(ERROR_CODES as readonly string[]).includes(c)), []);
});

test('every ERR_ code written anywhere in native/ or lib/ is in ERROR_CODES', (t) => {
  const native = codesIn(files(path.join(O.REPO, 'native'), /\.(cpp|hpp|h|cc)$/));
  const lib = codesIn(files(path.join(O.REPO, 'lib'), /\.(ts|mjs)$/));
  t.true(native.has('ERR_INTERNAL') && native.has('ERR_CLOSED'), 'the scan finds the binding and core codes');
  t.true(lib.has('ERR_TIMEOUT') && lib.has('ERR_INDEX_NOT_FOUND'), 'the scan finds the lib codes');
  // Node's own codes that lib/ reads off Node's errors (never raises): the server's client-error handler.
  const nodeCodes = new Set(['ERR_HTTP_REQUEST_TIMEOUT']);
  for (const [code, file] of [...native, ...lib])
    if (!nodeCodes.has(code)) t.true((ERROR_CODES as readonly string[]).includes(code), `${code} (${path.relative(O.REPO, file)}) is not in ERROR_CODES`);
  t.is(lib.get('ERR_HTTP_REQUEST_TIMEOUT'), path.join(O.REPO, 'lib', 'server', 'server.ts'), 'read where Node raises it, nowhere else');
});

test('the TSDoc table on ERROR_CODES documents every code once, in the list order', (t) => {
  const source = fs.readFileSync(path.join(O.REPO, 'lib', 'errors.ts'), 'utf8');
  const doc = source.slice(0, source.indexOf('export const ERROR_CODES'));
  const rows = [...doc.matchAll(/^ \* \| `(ERR_[A-Z_]+)` \| (.+) \|$/gm)];
  t.deepEqual(rows.map((r) => r[1]), [...ERROR_CODES]);
  for (const r of rows) t.true(r[2].trim().length > 10, `${r[1]} has a description`);
});
