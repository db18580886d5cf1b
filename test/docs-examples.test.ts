/**
 * Every code example in README.md and docs/*.md runs: TypeScript and JavaScript blocks are type-checked
 * (TypeScript) and run against a small index in a scratch directory, and every `traceindex ...` line of a
 * shell block runs with the built CLI. A block opts out only with `<!-- not-tested: reason -->` on the line
 * before it; the opted-out blocks are listed in the log. The command synopses (untagged blocks) name only
 * flags their command takes.
 *
 * The examples run in a fresh copy of one scratch directory, so their paths are real: FIXTURES says what is
 * at each path they use. The only substitutions: `from 'traceindex'` / `require('traceindex')` resolve to
 * this checkout (a node_modules link), and `traceindex` on PATH runs dist/lib/cli/main.js.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as ts from 'typescript';
import { SERVE_FLAGS } from '../lib/server/usage';
import { COMMANDS } from '../lib/cli/commands';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('docs-examples');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

const DOCS = ['README.md', ...fs.readdirSync(path.join(O.REPO, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

interface Block { where: string; lang: string; code: string; optOut?: string }

/** The fenced code blocks of a Markdown file, with the opt-out reason on the line before each, if any. */
function blocks(file: string): Block[] {
  const lines = fs.readFileSync(path.join(O.REPO, file), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    const optOut = /^<!-- not-tested: (.+) -->$/.exec(lines[i - 1] ?? '')?.[1];
    out.push({ where: `${file}:${i + 1}`, lang: open[1], code: lines.slice(i + 1, end).join('\n'), optOut });
    i = end;
  }
  return out;
}

const ALL = DOCS.flatMap(blocks);
const isScript = (b: Block) => ['ts', 'typescript', 'js', 'javascript'].includes(b.lang);
const isShell = (b: Block) => ['sh', 'bash', 'shell', 'console'].includes(b.lang);
/** Lines of a shell block that run traceindex (`\` continuations joined; comments and other commands are not). */
const cliLines = (b: Block) => b.code.replace(/\\\n/g, ' ').split('\n').filter((l) => /(^|[|;&]\s*)traceindex\s/.test(l) && !/^\s*#/.test(l));

// ---- the scratch directory the examples run in ----

const words = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'a', 'model', 'wrote', 'text'];
const r = O.rng(5);
const sentence = () => Array.from({ length: O.randInt(r, 20, 60) }, () => O.pick(r, words)).join(' ') + '. The quick brown fox.';
const jsonlGz = (rows: object[]) => zlib.gzipSync(rows.map((x) => JSON.stringify(x)).join('\n') + '\n');

/** The paths the examples use (relative to the directory they run in) and what is there. */
const FIXTURES: Record<string, (dir: string) => void> = {
  // Documents {id: 'doc-N', text} (the quick start looks up 'doc-17').
  'corpus/*.jsonl.gz': (dir) => {
    fs.mkdirSync(path.join(dir, 'corpus'));
    for (const part of [0, 1]) fs.writeFileSync(path.join(dir, 'corpus', `part-${part}.jsonl.gz`), jsonlGz(Array.from({ length: 20 }, (_, i) => ({ id: `doc-${part * 20 + i}`, text: sentence(), source: 'docs' }))));
  },
  // JSONL with the text in `content`, below a subdirectory.
  'data/**/*.jsonl.gz': (dir) => {
    fs.mkdirSync(path.join(dir, 'data', 'a'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'data', 'a', 'x.jsonl.gz'), jsonlGz(Array.from({ length: 5 }, (_, i) => ({ id: `c${i}`, content: sentence() }))));
  },
  'more.jsonl.gz': (dir) => fs.writeFileSync(path.join(dir, 'more.jsonl.gz'), jsonlGz([{ id: 'more-0', text: sentence() }])),
  // An index of corpus/ (built by the CLI, the bytes tokenizer).
  idx: (dir) => {
    const res = spawnSync(process.execPath, [O.CLI, 'build', 'corpus', '--out', 'idx', '--quiet'], { cwd: dir, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(res.stderr);
  },
};

const template = path.join(scratch, 'template');
let prepared = false;
function prepare(): void {
  if (prepared) return;
  fs.mkdirSync(template, { recursive: true });
  for (const make of Object.values(FIXTURES)) make(template);
  // `traceindex` (the package) resolves to this checkout from every example directory below scratch.
  fs.mkdirSync(path.join(scratch, 'node_modules'));
  fs.symlinkSync(O.REPO, path.join(scratch, 'node_modules', 'traceindex'), 'dir');
  // `traceindex` (the command) runs the built CLI.
  fs.mkdirSync(path.join(scratch, 'bin'));
  fs.writeFileSync(path.join(scratch, 'bin', 'traceindex'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(O.CLI)} "$@"\n`, { mode: 0o755 });
  prepared = true;
}

let n = 0;
/** A fresh copy of the template for one example. */
function workdir(): string {
  prepare();
  const dir = path.join(scratch, `example-${n++}`);
  fs.cpSync(template, dir, { recursive: true });
  return dir;
}

// ---- the tests ----

test('the docs have examples of every kind, and opt-outs give a reason', (t) => {
  const scripts = ALL.filter(isScript);
  const shells = ALL.filter((b) => isShell(b) && cliLines(b).length > 0);
  t.true(scripts.length >= 6, `${scripts.length} TypeScript/JavaScript blocks`);
  t.true(shells.length >= 5, `${shells.length} shell blocks with traceindex commands`);
  t.true(ALL.some((b) => b.where.startsWith('README.md') && isScript(b)), 'the README quick start is among them');
  for (const b of ALL.filter((x) => x.optOut)) {
    t.true(b.optOut!.length > 10, `${b.where}: opt-out reason`);
    t.log(`opted out: ${b.where} (${b.lang || 'text'}): ${b.optOut}`);
  }
  for (const b of ALL.filter((x) => isShell(x) && !x.optOut && cliLines(x).length === 0)) t.log(`not a traceindex command: ${b.where}: ${b.code.split('\n')[0]}`);
});

test('TypeScript examples type-check against the package types', (t) => {
  const blocksTs = ALL.filter((b) => ['ts', 'typescript'].includes(b.lang) && !b.optOut);
  const dir = path.join(scratch, 'typecheck');
  fs.mkdirSync(dir, { recursive: true });
  const files = blocksTs.map((b, i) => {
    const f = path.join(dir, `block-${i}.ts`);
    // `export {}` makes each block a module of its own (top-level await, no clashes between blocks).
    fs.writeFileSync(f, `${b.code}\nexport {};\n`);
    return f;
  });
  const program = ts.createProgram(files, {
    noEmit: true, strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
    skipLibCheck: true, types: ['node'], typeRoots: [path.join(O.REPO, 'node_modules', '@types')],
    paths: { traceindex: [path.join(O.REPO, 'dist', 'lib', 'index.d.ts')] },
  });
  const errors = ts.getPreEmitDiagnostics(program).map((d) => {
    const i = d.file ? files.indexOf(d.file.fileName) : -1;
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
    const where = i >= 0 ? `${blocksTs[i].where} +${line + 1}` : d.file?.fileName ?? '?';
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
  t.deepEqual(errors, []);
  t.true(files.length >= 5);
});

for (const b of ALL.filter((x) => isScript(x) && !x.optOut)) {
  test.serial(`${b.where} (${b.lang}) runs`, (t) => {
    const dir = workdir();
    const esm = /^\s*import\s/m.test(b.code) || /\bawait\b/.test(b.code);
    const file = path.join(dir, esm ? 'example.mjs' : 'example.cjs');
    const js = ['ts', 'typescript'].includes(b.lang)
      ? ts.transpileModule(b.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
      : b.code;
    fs.writeFileSync(file, js);
    const res = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 180_000 });
    t.is(res.status, 0, `${b.where}:\n${res.stderr}`);
  });
}

for (const b of ALL.filter((x) => isShell(x) && !x.optOut && cliLines(x).length > 0)) {
  test.serial(`${b.where} (shell) runs`, (t) => {
    const dir = workdir();
    for (const line of cliLines(b)) {
      const res = spawnSync('sh', ['-c', line], { cwd: dir, encoding: 'utf8', timeout: 180_000, env: { ...process.env, PATH: `${path.join(scratch, 'bin')}:${process.env.PATH}` } });
      t.is(res.status, 0, `${b.where}: ${line}\n${res.stderr}`);
      // A --json command prints one JSON value.
      if (/--json(\s|$)/.test(line.replace(/\s+#.*$/, '')) && !/\|\s*\S+\s*$/.test(line)) t.notThrows(() => JSON.parse(res.stdout), `${line}: ${res.stdout}`);
    }
  });
}

test('command synopses name only flags their command takes', (t) => {
  let checked = 0;
  for (const b of ALL.filter((x) => x.lang === '')) {
    // An entry: a line starting with `traceindex NAME`, plus the indented lines after it.
    const entries: string[] = [];
    for (const line of b.code.split('\n')) {
      if (/^traceindex\s/.test(line)) entries.push(line);
      else if (/^\s+\S/.test(line) && entries.length) entries[entries.length - 1] += ' ' + line;
    }
    for (const e of entries) {
      const name = e.split(/\s+/)[1];
      if (name.startsWith('-') || name.startsWith('<') || name === 'help') continue;
      // `serve` parses its own flags (lib/server/usage.ts).
      const c = name === 'serve' ? { options: Object.keys(SERVE_FLAGS) } : COMMANDS.find((x) => x.name === name);
      if (!c) {
        t.fail(`${b.where}: ${name} is no command`);
        continue;
      }
      const flags = [...e.replace(/#.*$/, '').matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]);
      t.deepEqual(flags.filter((f) => f !== 'help' && !(c.options as readonly string[]).includes(f)), [], `${b.where}: ${e}`);
      checked++;
    }
  }
  t.true(checked >= COMMANDS.length - 1, `${checked} synopses checked`);
});
