/** traceindex demo: build and query an index of the Markdown and licence files under node_modules. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DocumentRecord, TraceIndexError } from '../../index';
import { Command, Flags, print, withIndex } from '../command';
import { formatCount } from '../format';
import { runBuild } from './build';

/** Markdown and licence files of the installed packages: a corpus every installation has. */
function demoCorpus(): DocumentRecord[] {
  // From dist/lib/cli/commands: the package's node_modules, or the node_modules it is installed in.
  const roots = [path.resolve(__dirname, '..', '..', '..', '..', 'node_modules'), path.resolve(__dirname, '..', '..', '..', '..', '..')];
  const root = roots.find((r) => fs.existsSync(r) && path.basename(r) === 'node_modules') ?? roots[0];
  const docs: DocumentRecord[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && depth < 6) walk(p, depth + 1);
      else if (e.isFile() && /(\.md|\.markdown|^LICEN[CS]E(\.txt)?)$/i.test(e.name)) {
        const text = fs.readFileSync(p, 'utf8');
        if (text.length > 0) docs.push({ text, id: path.relative(root, p) });
      }
    }
  };
  walk(root, 0);
  if (docs.length === 0) throw new TraceIndexError('ERR_BAD_INPUT', `no Markdown or licence files under ${root}: run npm install first`);
  return docs;
}

async function runDemo(flags: Flags, signal?: AbortSignal): Promise<void> {
  const out = (flags.out as string | undefined) ?? path.join(os.tmpdir(), 'traceindex-demo');
  const corpus = demoCorpus();
  const built = await runBuild({ ...flags, quiet: true }, corpus, out, signal);
  await withIndex(out, {}, async (idx) => {
    const sample = 'Permission is hereby granted, free of charge, to any person obtaining a copy';
    // A second sample: a deterministic 48-byte window from the middle of a mid-corpus document.
    const doc = corpus[Math.floor(corpus.length / 2)];
    const bytes = Buffer.from(doc.text!, 'utf8');
    const at = Math.floor(bytes.length / 2);
    const window = bytes.subarray(at, Math.min(bytes.length, at + 48)).toString('utf8').replace(/^\uFFFD+|\uFFFD+$/g, '');
    const results = [];
    for (const text of [sample, window]) {
      const t0 = performance.now();
      const count = await idx.count(text);
      const located = await idx.locate(text, { limit: 3, context: 0 });
      results.push({ text, count, microseconds: Math.round((performance.now() - t0) * 1000), sources: located.occurrences.map((o) => ({ id: o.id, byte: o.position.byte })) });
    }
    // The main job: trace a model-like output (a corpus sentence spliced into new text) back to its sources.
    const output = `As the model put it: ${window.trim()} — and, as every licence says, ${sample.toLowerCase()} of this demo.`;
    const traceOptions = { minLength: 12, wordBoundaries: true, maxDocuments: 2 };
    const t0 = performance.now();
    const traced = await idx.trace(output, traceOptions);
    const traceMicroseconds = Math.round((performance.now() - t0) * 1000);
    const summary = {
      index: out, documents: built.documents, tokens: built.tokens, shards: built.shards, buildSeconds: built.seconds, bytesPerToken: idx.info.bytesPerToken, queries: results,
      trace: { output, options: traceOptions, microseconds: traceMicroseconds, spans: traced.spans.map((sp) => ({ start: sp.start, end: sp.end, text: sp.text, count: sp.count, bci: sp.bci, sources: sp.documents.map((d) => d.id) })) },
    };
    const human = [
      `Indexed ${formatCount(built.documents)} Markdown/licence files from node_modules (${formatCount(built.tokens)} UTF-8 byte tokens) into ${out} in ${built.seconds.toFixed(2)} s.`,
      ...results.map((r) => [
        ``,
        `"${r.text.length > 70 ? r.text.slice(0, 67) + '...' : r.text}"`,
        `  occurs ${r.count} time(s) (count + locate: ${r.microseconds} µs); from:`,
        ...r.sources.map((s) => `    ${s.id} at byte ${s.byte}`),
        ...(r.count > r.sources.length ? [`    ... and ${r.count - r.sources.length} more`] : []),
      ].join('\n')),
      ``,
      `Tracing a model-like output (${traced.tokens} tokens, ${traceMicroseconds} µs; spans of >= 12 tokens on word boundaries):`,
      `  ${JSON.stringify(output)}`,
      ...traced.spans.map((sp) => `  [${sp.start}, ${sp.end}) BCI ${sp.bci.toFixed(1)}, ${sp.count} occurrence(s), e.g. ${sp.documents.map((d) => d.id).join(', ')}: ${JSON.stringify(sp.text)}`),
      ``,
      `Try: traceindex trace ${out} "<any text>"    traceindex locate ${out} "MIT License" --limit 5`,
    ].join('\n');
    print(flags, summary, human);
  });
}

export const demo: Command = {
  name: 'demo',
  summary: 'build and query an index of the docs under node_modules',
  usage: '[--out DIR] [--json]',
  options: ['out', 'json'],
  interruptible: true,
  async run(_args, flags, signal) {
    await runDemo(flags, signal);
  },
};
