/**
 * The layout of lib/ (README, Architecture): no import circles (type-only imports included), and the layers
 * depend downward only: provenance may use query, query never uses provenance, and nothing but the CLI uses cli/.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';

const LIB = path.resolve(__dirname, '..', '..', 'lib');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Module (path relative to lib/, no extension) -> the lib modules it imports, type-only imports included. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(LIB)) {
    const from = path.relative(LIB, file).replace(/\.ts$/, '');
    const text = fs.readFileSync(file, 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+|require\(\s*)'(\.{1,2}\/[^']*)'/g)) {
      let to = path.relative(LIB, path.resolve(path.dirname(file), m[1]));
      // As require resolves: a file `to.ts` first, then a directory's index.
      if (!fs.existsSync(path.join(LIB, `${to}.ts`)) && fs.existsSync(path.join(LIB, to)) && fs.statSync(path.join(LIB, to)).isDirectory())
        to = path.join(to, 'index');
      deps.push(to);
    }
    graph.set(from, deps);
  }
  return graph;
}

test('the import graph of lib/ is what the files import', (t) => {
  const g = importGraph();
  // A few known edges, so a broken parser cannot make the checks below pass vacuously.
  t.true(g.get('provenance/trace')!.includes('query/core'));
  t.true(g.get('provenance/index-methods')!.includes('query/open-index'));
  t.true(g.get('index')!.includes('provenance/index-methods'));
  t.true(g.get('query/open-index')!.includes('errors'));
  for (const [from, deps] of g) for (const d of deps) t.true(g.has(d), `${from} imports ${d}, which is not a module of lib/`);
});

test('lib/ has no import circles', (t) => {
  const g = importGraph();
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (m: string, stack: string[]) => {
    if (state.get(m) === 'done') return;
    if (state.get(m) === 'visiting') {
      cycles.push([...stack.slice(stack.indexOf(m)), m].join(' -> '));
      return;
    }
    state.set(m, 'visiting');
    for (const d of g.get(m) ?? []) visit(d, [...stack, m]);
    state.set(m, 'done');
  };
  for (const m of g.keys()) visit(m, []);
  t.deepEqual(cycles, []);
});

/** The layer of a module: its folder, or 'base' for the root modules but index.ts (errors, validate, native). */
function layer(m: string): string {
  if (m === 'index') return 'index';
  return m.includes('/') ? m.split('/')[0] : 'base';
}

/** Which layers each layer may import (its own included): downward only. */
const ALLOWED: Record<string, string[]> = {
  base: ['base'],
  inputs: ['base', 'inputs'],
  tokenizers: ['base', 'tokenizers', 'inputs'],
  build: ['base', 'inputs', 'tokenizers', 'build'],
  query: ['base', 'tokenizers', 'build', 'query'],
  provenance: ['base', 'inputs', 'tokenizers', 'query', 'provenance'],
  viewer: ['base', 'tokenizers', 'query', 'provenance', 'viewer'],
  server: ['base', 'tokenizers', 'query', 'provenance', 'viewer', 'server'],
  index: ['base', 'inputs', 'tokenizers', 'build', 'query', 'provenance', 'viewer', 'server'],
  cli: ['base', 'inputs', 'tokenizers', 'build', 'query', 'provenance', 'viewer', 'server', 'index', 'cli'],
};

test('layers depend downward: query never imports provenance, only the CLI imports cli/, nothing imports upward', (t) => {
  const g = importGraph();
  const bad: string[] = [];
  for (const [from, deps] of g) {
    const allowed = ALLOWED[layer(from)];
    if (!allowed) {
      bad.push(`${from}: a folder the layer table does not know`);
      continue;
    }
    for (const d of deps) if (!allowed.includes(layer(d))) bad.push(`${from} -> ${d}`);
  }
  t.deepEqual(bad, []);
});
