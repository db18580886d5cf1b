/**
 * The trace viewer in a real browser: Debian's chromium driven by puppeteer-core against a server on loopback.
 * The highlighted spans must be exactly the API's trace result, clicking a span must list its documents with
 * the match marked, τ must mark the spans TraceShield would refuse, and the explore tab must count. Screenshots
 * go to test-artifacts/. Reported as skipped, with the reason, when no chromium is installed
 * (apt-get install chromium; CHROMIUM_PATH selects another binary).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- page callbacks run in the browser; the project compiles without DOM types */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildIndex, openIndex } from '../lib/index';
import { createServer } from '../lib/server';
import { renderTraceReport } from '../lib/viewer';
import * as O from './helpers/oracle';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => p && fs.existsSync(p));
const ARTIFACTS = path.join(O.REPO, 'test-artifacts');

/** Prose: the paragraphs of the licence texts Debian ships (else files under /usr/include and /usr/share/doc). */
function corpus(): Array<{ id: string; text: string }> {
  const dir = '/usr/share/common-licenses';
  const out: Array<{ id: string; text: string }> = [];
  if (fs.existsSync(dir)) {
    for (const name of fs.readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      if (!fs.statSync(file).isFile()) continue;
      fs.readFileSync(file, 'utf8').split(/\n\s*\n/).forEach((p, i) => {
        const text = p.replace(/\s+/g, ' ').trim();
        if (text.length > 80) out.push({ id: `${name}#${i + 1}`, text });
      });
    }
  }
  return out.length > 50 ? out : O.realTexts(400_000, 60);
}

interface ApiSpan { start: number; end: number; text: string; count: number; bci: number; textStart: number; textEnd: number; documents: Array<{ id: string; document: number }> }

if (!CHROMIUM) {
  test.skip('trace viewer in chromium: skipped, no chromium found (apt-get install chromium, or set CHROMIUM_PATH)', () => {});
} else {
  test('trace viewer: highlighted spans equal the API trace, a click lists the documents, τ marks refusals, explore counts', async (t) => {
    const puppeteer = await import('puppeteer-core');
    const scratch = O.tmpDir('viewer');
    t.teardown(() => fs.rmSync(scratch, { recursive: true, force: true }));
    const docs = corpus();
    t.true(docs.length > 10);
    const dir = path.join(scratch, 'idx');
    await buildIndex({ inputs: docs.map((d) => ({ id: path.basename(d.id), text: d.text })), out: dir });
    const index = await openIndex(dir);
    t.teardown(() => index.close());
    const server = await createServer({ indexes: { docs: index } });
    t.teardown(() => server.shutdown({ drainMs: 0 }));
    const { url } = await server.listen({ port: 0 });

    // An output made of corpus sentences and new words.
    const long = docs.filter((d) => d.text.length > 400);
    const pieces = [0, 3, 7, 12].map((k) => {
      const text = long[(k * 5) % long.length].text.replace(/\s+/g, ' ');
      const at = text.indexOf(' ', Math.floor(text.length / 3)) + 1;
      return text.slice(at, text.indexOf(' ', at + 80 + 8 * k));
    });
    const output = `As the assistant put it, ${pieces[0]}, which is what most people would expect. Then it added that ${pieces[1]}. ` +
      `Asked for a summary it wrote: ${pieces[2]} — and finally, in its own words, ${pieces[3]}.`;

    const browser = await puppeteer.default.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--font-render-hinting=none'] });
    t.teardown(() => browser.close());
    const page = await browser.newPage();
    await page.setViewport({ width: 1440, height: 900, deviceScaleFactor: 1 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url + '/', { waitUntil: 'networkidle0' });
    await page.waitForSelector('#index option');
    await page.$eval('#output', (el, v) => { (el as any).value = v as string; }, output);
    await page.$eval('#minLength', (el) => { (el as any).value = '12'; });
    await page.click('#run');
    await page.waitForFunction("/span/.test(document.querySelector('#summary').textContent) && !document.querySelector('#run').disabled");

    const api = await (await fetch(`${url}/v1/indexes/docs/trace`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: output, textOffsets: true, context: 24, minLength: 12, maxDocuments: 5, wordBoundaries: true }),
    })).json() as { result: { spans: ApiSpan[] } };
    const spans = api.result.spans;
    t.true(spans.length >= 3, `${spans.length} spans`);

    // The span table lists exactly the API's spans, and the highlighted text of each is its text.
    const rows = await page.$$eval('#span-rows tr', (trs) => trs.map((tr) => [Number(tr.getAttribute('data-start')), Number(tr.getAttribute('data-end'))]));
    t.deepEqual(rows, spans.map((s) => [s.start, s.end]));
    const highlighted = await page.$$eval('#rendered .seg', (segs) => segs.map((s) => ({ spans: s.getAttribute('data-spans')!.split(',').map(Number), text: s.textContent ?? '' })));
    spans.forEach((s, i) => {
      const text = highlighted.filter((h) => h.spans.includes(i)).map((h) => h.text).join('');
      t.is(text, s.text, `span ${i}`);
      t.is(text, output.slice(s.textStart, s.textEnd));
    });
    // Text outside every span is not highlighted.
    const covered = highlighted.reduce((n, h) => n + h.text.length, 0);
    const union = new Set<number>();
    for (const s of spans) for (let k = s.textStart; k < s.textEnd; k++) union.add(k);
    t.is(covered, union.size);
    t.is(await page.$eval('#rendered', (el) => el.textContent), output);

    // Hover shows count and scores; a click lists the attributed documents with the match marked.
    const target = spans.reduce((best, s, i) => (s.documents.length > 0 && (best < 0 || s.bci > spans[best].bci) ? i : best), -1);
    t.true(target >= 0);
    const seg = (await page.$$('#rendered .seg'))[highlighted.findIndex((h) => h.spans.length === 1 && h.spans[0] === target)] ??
      (await page.$$('#rendered .seg'))[highlighted.findIndex((h) => h.spans.includes(target))];
    await seg.hover();
    const tip = await page.$eval('#tip', (el) => ({ hidden: (el as any).hidden, text: el.textContent ?? '' }));
    t.false(tip.hidden);
    t.regex(tip.text, /count/);
    t.regex(tip.text, /BCI/);
    await page.$eval(`#span-rows tr[data-i="${target}"]`, (el) => (el as any).click());
    const panel = await page.$eval('#docs', (el) => ({
      quote: el.querySelector('.quote')?.textContent,
      ids: Array.from(el.querySelectorAll('.doc-id')).map((d: any) => d.textContent),
      marks: Array.from(el.querySelectorAll('.snippet mark')).map((m: any) => m.textContent),
    }));
    t.is(panel.quote, spans[target].text);
    t.deepEqual(panel.ids, spans[target].documents.map((d) => d.id));
    t.deepEqual(panel.marks, spans[target].documents.map(() => spans[target].text));
    await page.mouse.move(5, 5);

    // τ between the smallest and the largest BCI: the spans above it are marked as refused.
    const sorted = spans.map((s) => s.bci).sort((a, b) => a - b);
    const tau = (sorted[0] + sorted[sorted.length - 1]) / 2;
    await page.$eval('#tau', (el, v) => { (el as any).value = String(v); el.dispatchEvent(new (globalThis as any).Event('input')); }, tau);
    const refusedSpans = new Set((await page.$$eval('#rendered .seg.refused', (segs) => segs.map((s) => s.getAttribute('data-spans')!))).flatMap((x) => x.split(',').map(Number)));
    const above = spans.map((s, i) => (s.bci > tau ? i : -1)).filter((i) => i >= 0);
    for (const i of above) t.true(refusedSpans.has(i), `span ${i} above τ not marked`);
    t.regex(await page.$eval('#summary', (el) => el.textContent ?? ''), new RegExp(`would refuse: ${above.length} span`));
    await page.$eval(`#span-rows tr[data-i="${target}"]`, (el) => (el as any).click());
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer.png'), fullPage: true });

    // Explore: count and next tokens.
    await page.click('#tab-btn-explore');
    const phrase = spans[0].text.trim().split(' ').slice(0, 3).join(' ');
    await page.$eval('#q', (el, v) => { (el as any).value = v as string; }, phrase);
    await page.click('[data-op="count"]');
    await page.waitForSelector('#explore-out .big');
    const shown = Number((await page.$eval('#explore-out .big', (el) => el.textContent ?? '')).replace(/[^0-9]/g, ''));
    t.is(shown, await index.count(phrase));
    await page.click('[data-op="next-tokens"]');
    await page.waitForSelector('#explore-out .bars');
    const bars = await page.$$eval('#explore-out .bars .tok', (els) => els.length);
    t.is(bars, Math.min(40, (await index.nextTokens(phrase)).tokens.length));
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-explore.png') });
    t.deepEqual(errors, []);

    // The self-contained report shows the same spans, with nothing fetched.
    const result = await index.trace(output, { minLength: 12, maxDocuments: 5, wordBoundaries: true, context: 24 });
    const html = renderTraceReport(index, { output, result, id: 'example' }, { traceOptions: { minLength: 12, wordBoundaries: true }, tau, indexName: 'docs' });
    const reportFile = path.join(ARTIFACTS, 'report.html');
    fs.writeFileSync(reportFile, html);
    const requests: string[] = [];
    const rp = await browser.newPage();
    await rp.setViewport({ width: 1440, height: 900 });
    rp.on('request', (req) => requests.push(req.url()));
    rp.on('pageerror', (e) => errors.push(String(e)));
    await rp.goto('file://' + reportFile, { waitUntil: 'load' });
    const reportRows = await rp.$$eval('#span-rows tr', (trs) => trs.map((tr) => [Number(tr.getAttribute('data-start')), Number(tr.getAttribute('data-end'))]));
    t.deepEqual(reportRows, spans.map((s) => [s.start, s.end]));
    t.deepEqual(requests.filter((u) => !u.startsWith('file://')), []);
    await rp.screenshot({ path: path.join(ARTIFACTS, 'report.png'), fullPage: true });
    t.deepEqual(errors, []);
  });
}
