#!/usr/bin/env python3
"""
traceindex side by side with infini-gram, pydivsufsort and a pure-Python TraceAlign pipeline, on the same
documents and the same token ids (UTF-8 bytes). See bench/python/README.md.

    python bench/python/compare.py --generate-mb 10                 # corpus.py into --work, then everything
    python bench/python/compare.py --jsonl data.jsonl --limit-mb 20
    python bench/python/compare.py --corpus DIR                     # a directory written by corpus.py

Writes bench/results/python-compare.json (or --json-out) and prints a Markdown table. A peer whose package is
missing is skipped with a message.
"""
import argparse
import importlib
import importlib.metadata
import json
import math
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import corpus as corpus_mod  # noqa: E402

SEPARATOR = 0xFF
IG_EOS = 254  # 0xFE never occurs in UTF-8: infini-gram's end-of-document pseudo-token, told apart from real ones

# Runs a command in a fresh Python process and reports that process's RUSAGE_CHILDREN: the peak RSS of the
# largest single process of the command's tree (ru_maxrss is a maximum, not a sum), and CPU times of all.
MEASURE = r'''
import json, resource, subprocess, sys, time
cmd = json.loads(sys.argv[1])
with open(sys.argv[2], 'wb') as log:
    t = time.perf_counter()
    rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=sys.argv[3])
    wall = time.perf_counter() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "wallSeconds": wall, "peakRssMiB": r.ru_maxrss / 1024, "userSeconds": r.ru_utime, "systemSeconds": r.ru_stime}))
'''


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def measured(cmd: list[str], logfile: str, cwd: str = ROOT) -> dict:
    out = subprocess.run([sys.executable, '-c', MEASURE, json.dumps(cmd), logfile, cwd], capture_output=True, text=True, check=True)
    r = json.loads(out.stdout)
    r['command'] = ' '.join(cmd)
    r['log'] = logfile
    return r


def pctl(xs: list[float], p: float) -> float:
    if not xs:
        return float('nan')
    s = sorted(xs)
    return s[min(len(s) - 1, int(p * len(s)))]


def lat_stats(ns: list[float]) -> dict:
    us = [x / 1000 for x in ns]
    return {'n': len(us), 'p50us': pctl(us, 0.5), 'p99us': pctl(us, 0.99), 'meanUs': statistics.fmean(us) if us else float('nan')}


def ratio(a, b):
    try:
        return a / b if a and b and not math.isnan(a) and not math.isnan(b) else None
    except TypeError:
        return None


def dir_bytes(d: str) -> dict:
    files = {}
    for base, _, names in os.walk(d):
        for n in names:
            p = os.path.join(base, n)
            files[os.path.relpath(p, d)] = os.path.getsize(p)
    return files


def version_of(pkg: str):
    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine() -> dict:
    cpu = None
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), None)
    except OSError:
        pass
    mem = None
    try:
        with open('/proc/meminfo') as f:
            mem = int(next(line.split()[1] for line in f if line.startswith('MemTotal'))) * 1024
    except (OSError, StopIteration):
        pass
    node = shutil.which('node')
    return {
        'cpu': cpu, 'logicalCores': os.cpu_count(), 'memoryBytes': mem, 'kernel': platform.release(),
        'loadAverage': list(os.getloadavg()), 'python': platform.python_version(),
        'node': subprocess.run([node, '--version'], capture_output=True, text=True).stdout.strip() if node else None,
        'packages': {p: version_of(p) for p in ('infini-gram', 'pydivsufsort', 'numpy')},
    }


# ---------------------------------------------------------------- queries

def sample_queries(blob: bytes, doc_starts: list[int], doc_ends: list[int], lengths, n, present_fn, rng) -> dict:
    """Per length: n present patterns (inside one document) and up to n absent ones (a present pattern with its
    last token changed until the corpus does not contain it; for length 1, bytes the corpus never holds)."""
    alphabet = sorted(set(blob) - {SEPARATOR})
    unused = [b for b in range(254) if b not in set(alphabet)]
    out = {}
    for L in lengths:
        pres, absent = [], []
        tries = 0
        while len(pres) < n and tries < n * 50:
            tries += 1
            d = rng.randrange(len(doc_starts))
            s, e = doc_starts[d], doc_ends[d]
            if e - s < L:
                continue
            at = rng.randrange(s, e - L + 1)
            pres.append(blob[at:at + L])
        for q in pres:
            if len(absent) >= n:
                break
            if L == 1:
                if unused:
                    absent.append(bytes([unused[len(absent) % len(unused)]]))
                continue
            for _ in range(40):
                cand = q[:-1] + bytes([rng.choice(alphabet)])
                if not present_fn(cand):
                    absent.append(cand)
                    break
        out[L] = {'present': pres, 'absent': absent}
    return out


def make_outputs(blob: bytes, doc_starts, doc_ends, n: int, size: int, rng) -> list[bytes]:
    """Synthetic 'model outputs': corpus snippets (10-120 tokens) alternating with novel text (random letter
    strings), about `size` tokens each, so spans of every length and many misses occur."""
    outs = []
    letters = b'abcdefghijklmnopqrstuvwxyz'
    for _ in range(n):
        parts, total = [], 0
        while total < size:
            if rng.random() < 0.5:
                d = rng.randrange(len(doc_starts))
                s, e = doc_starts[d], doc_ends[d]
                k = min(e - s, 10 + rng.randrange(111))
                at = rng.randrange(s, e - k + 1)
                piece = blob[at:at + k]
            else:
                piece = b' '.join(bytes(rng.choice(letters) for _ in range(3 + rng.randrange(8))) for _ in range(1 + rng.randrange(6))) + b' '
            parts.append(piece)
            total += len(piece)
        outs.append(b''.join(parts)[:size])
    return outs


# ---------------------------------------------------------------- steps

def build_traceindex(a, corpus_dir: str, out: str) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    cmd = ['node', os.path.join(ROOT, 'dist', 'lib', 'cli', 'main.js'), 'build', os.path.join(corpus_dir, 'docs.jsonl'),
           '--out', out, '--threads', str(a.threads), '--memory', f'{a.mem}GiB', '--json', '--quiet']
    r = measured(cmd, os.path.join(a.work, 'traceindex-build.log'))
    if r['rc'] != 0:
        raise RuntimeError(f"traceindex build failed (exit {r['rc']}); see {r['log']}")
    with open(r['log']) as f:
        lines = [line for line in f.read().splitlines() if line.startswith('{')]
    if lines:
        r['buildIndex'] = json.loads(lines[-1])
    return r


def ig_ulimit() -> int:
    """The open-files limit infini-gram's indexer may set (it raises RLIMIT_NOFILE to --ulimit, at most the hard limit)."""
    try:
        import resource
        ulimit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        return 1048576 if ulimit == resource.RLIM_INFINITY else min(ulimit, 1048576)
    except Exception:  # noqa: BLE001
        return 1024


def build_infinigram(a, corpus_dir: str, out: str) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    tmp = out + '-tmp'
    shutil.rmtree(tmp, ignore_errors=True)
    ulimit = ig_ulimit()
    cmd = [sys.executable, os.path.join(HERE, 'ig_index.py'), '--data_dir', os.path.join(corpus_dir, 'infinigram-data'),
           '--save_dir', out, '--temp_dir', tmp, '--token_dtype', 'u8', '--cpus', str(a.threads), '--mem', str(a.mem),
           '--shards', '1', '--add_metadata', '--ulimit', str(ulimit)]
    r = measured(cmd, os.path.join(a.work, 'infinigram-build.log'))
    shutil.rmtree(tmp, ignore_errors=True)
    if r['rc'] != 0 or not os.path.exists(os.path.join(out, 'table.0')):
        raise RuntimeError(f"infini-gram build failed (exit {r['rc']}); see {r['log']}")
    return r


def time_sa(a, tokens_path: str, meta: dict) -> dict:
    """pydivsufsort vs traceindex SA-IS on the same token array (tokens.u8)."""
    res = {'input': tokens_path, 'bytes': os.path.getsize(tokens_path)}
    try:
        import numpy as np
        from pydivsufsort import divsufsort
    except ImportError as e:
        res['pydivsufsort'] = {'skipped': f'pydivsufsort or numpy not installed ({e})'}
        return res
    arr = np.fromfile(tokens_path, dtype=np.uint8)
    best = math.inf
    sa = None
    for _ in range(a.sa_repeat):
        t = time.perf_counter()
        sa = divsufsort(arr)
        best = min(best, time.perf_counter() - t)
    res['pydivsufsort'] = {'seconds': best, 'repeat': a.sa_repeat, 'dtype': str(sa.dtype)}
    res['_sa'] = sa
    bench_sais = os.path.join(a.native_dir, 'bench_sais')
    if os.access(bench_sais, os.X_OK):
        js = os.path.join(a.work, 'bench_sais.json')
        cmd = [bench_sais, '--file', tokens_path, '--mb', repr(res['bytes'] / 1e6 + 1e-6), '--threads', '1',
               '--repeat', str(a.sa_repeat), '--json', js, '--no-verify']
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode == 0 and os.path.exists(js):
            with open(js) as f:
                bs = json.load(f)
            ours = next((x for x in bs.get('results', []) if x.get('engine', '').startswith('traceindex') and x.get('threads') == 1), None)
            res['traceindex'] = {'source': 'build/native/bench_sais --file tokens.u8 --threads 1 (SA-IS alone)',
                                 'seconds': ours['seconds'] if ours else None, 'benchSais': bs, 'command': ' '.join(cmd)}
        else:
            res['traceindex'] = {'source': 'bench_sais failed', 'stderr': p.stderr[-2000:]}
    else:
        res['traceindex'] = {'source': f'no {bench_sais}: buildIndex seconds instead (whole build: reading, tokenizing, '
                                       'SA-IS, unigram counts, durable writes), NOT SA construction alone',
                             'seconds': None}
    return res


def ig_engine(index_dir: str, **prefetch):
    from infini_gram.engine import InfiniGramEngine
    return InfiniGramEngine(index_dir=index_dir, eos_token_id=IG_EOS, vocab_size=255, version=4, token_dtype='u8',
                            precompute_unigram_logprobs=True, **prefetch)


IG_NO_PREFETCH = {'ds_prefetch_depth': 0, 'sa_prefetch_depth': 0, 'od_prefetch_depth': 0}
def ig_time(fn, items, rounds):
    for q in items:  # warm-up, as on the traceindex side
        fn(q)
    lat, res = [], None
    for _ in range(rounds):
        res = []
        for q in items:
            t = time.perf_counter_ns()
            res.append(fn(q))
            lat.append(time.perf_counter_ns() - t)
    return lat, res


# traceindex's forms: (key in the results, label, the ti_bench.js child that measures it, its form there)
TI_FORMS = (('countSync', 'countSync', 'traceindex', 'countSync'),
            ('awaitCount', 'await count (inline when tiny: the default)', 'traceindex', 'awaitCount'),
            ('awaitCountPool', 'await count on the pool (TRACEINDEX_ASYNC_INLINE=0)', 'traceindexPool', 'awaitCount'),
            ('batchSync', 'countBatchSync, per query', 'traceindex', 'batchSync'),
            ('batchAwait', 'await countBatch, per query', 'traceindex', 'batchAwait'))


def count_rounds(queries: list, rounds: int, ig_dir, ti_dir, work: str) -> dict:
    """Counts every query with infini-gram (default prefetch and prefetch off: two engines on the same files) and
    with each of traceindex's forms (two node children running ti_bench.js --count-rounds: the default process,
    and one started with TRACEINDEX_ASYNC_INLINE=0 for the pool's round trip), the tools alternating round by
    round, the first of each round rotating. Each tool has one untimed warm-up pass first. Returns per infini-gram
    engine the counts and every call's latency, round by round (entry r * len(queries) + i); per traceindex form
    its latencies (per-call forms) or each round's wall time (batches), and the counts."""
    tools, res, children = [], {}, []
    if ig_dir:
        for name, kw in (('infinigram', {}), ('infinigramNoPrefetch', IG_NO_PREFETCH)):
            eng = ig_engine(ig_dir, **kw)
            for q in queries:
                eng.count(list(q))
            res[name] = {'latencyNs': [], 'prefetch': kw or 'default'}
            tools.append((name, eng))
    if ti_dir:
        res['traceindex'] = {key: [] for key, *_ in TI_FORMS}
        for child_name in ('traceindex', 'traceindexPool'):
            forms = [form for _, _, c, form in TI_FORMS if c == child_name]
            jf = os.path.join(work, f'ti-count-job-{child_name}.json')
            with open(jf, 'w') as f:
                json.dump({'index': ti_dir, 'count': [list(q) for q in queries], 'forms': forms}, f)
            env = os.environ | ({'TRACEINDEX_ASYNC_INLINE': '0'} if child_name == 'traceindexPool' else {})
            child = subprocess.Popen(['node', os.path.join(HERE, 'ti_bench.js'), '--count-rounds', jf], cwd=ROOT, text=True,
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            children.append(child)
            line = child.stdout.readline()
            if not line:
                raise SystemExit(f'ti_bench.js --count-rounds failed (exit {child.wait()})')
            res['traceindex']['counts'] = json.loads(line)['counts']
            tools.append((child_name, child))
    for r in range(rounds):
        k = r % len(tools)
        for name, tool in tools[k:] + tools[:k]:
            if isinstance(tool, subprocess.Popen):
                tool.stdin.write('round\n')
                tool.stdin.flush()
                line = tool.stdout.readline()
                if not line:
                    raise SystemExit(f'ti_bench.js --count-rounds failed (exit {tool.wait()})')
                got = json.loads(line)
                for key, _, c, form in TI_FORMS:
                    if c == name:
                        v = got[form]
                        res['traceindex'][key] += v if isinstance(v, list) else [v]
                continue
            out = []
            for q in queries:
                t = time.perf_counter_ns()
                c = tool.count(list(q))
                res[name]['latencyNs'].append(time.perf_counter_ns() - t)
                out.append(c)
            res[name]['counts'] = [c['count'] for c in out]
            res[name]['approx'] = sum(c['approx'] for c in out)
    for child in children:
        child.stdin.write('end\n')
        child.stdin.close()
        child.wait()
    return res


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--corpus', help='directory written by corpus.py')
    src.add_argument('--generate-mb', type=float)
    src.add_argument('--jsonl')
    p.add_argument('--limit-mb', type=float, default=0)
    p.add_argument('--text-field', default='text')
    p.add_argument('--work', default='/tmp/traceindex-pycompare', help='indexes, logs, generated corpus')
    p.add_argument('--json-out', default=os.path.join(ROOT, 'bench', 'results', 'python-compare.json'))
    p.add_argument('--threads', type=int, default=1, help='traceindex --threads and infini-gram --cpus')
    p.add_argument('--mem', type=int, default=4, help='GiB: traceindex --memory and infini-gram --mem')
    p.add_argument('--queries', type=int, default=300, help='per length and kind (present/absent)')
    p.add_argument('--lengths', default='1,2,5,10,20')
    p.add_argument('--next', type=int, default=200, help='∞-gram contexts')
    p.add_argument('--max-support', type=int, default=1000, help="infini-gram's infgram_ntd max_support (its default)")
    p.add_argument('--outputs', type=int, default=30, help='outputs traced / shielded')
    p.add_argument('--output-tokens', type=int, default=400)
    p.add_argument('--window', type=int, default=16, help='TraceShield window (tokens)')
    p.add_argument('--tau', type=float, default=None, help='TraceShield threshold; default: between the reference '
                   'maxBci values around their median, so about half the outputs are refused')
    p.add_argument('--reference-builder', choices=['numpy', 'divsufsort'], default='numpy',
                   help='how the Python reference builds its suffix array (numpy prefix doubling = all Python)')
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--sa-repeat', type=int, default=1)
    p.add_argument('--native-dir', default=os.path.join(ROOT, 'build', 'native'))
    p.add_argument('--cores', metavar='BENCH_INFINIGRAM', help='also compare the two search cores on the calling thread: '
                   'bench_infinigram built with -DINFINIGRAM_SRC (bench/README.md), run on the infini-gram files of this '
                   'run and a traceindex shard of the same documents; its table is included as it prints it')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--skip', default='', help='comma-separated: infinigram,traceindex,sa,tracealign')
    a = p.parse_args()
    skip = set(filter(None, a.skip.split(',')))
    os.makedirs(a.work, exist_ok=True)
    rng = random.Random(a.seed)
    result = {'command': ' '.join([os.path.basename(sys.executable)] + sys.argv), 'cwd': os.getcwd(),
              'date': time.strftime('%Y-%m-%dT%H:%M:%S%z'), 'machine': machine(), 'skipped': {}}

    # ---- corpus
    if a.corpus:
        cdir = a.corpus
    else:
        cdir = os.path.join(a.work, 'corpus')
        args = ['--out', cdir, '--seed', str(a.seed)]
        args += ['--generate-mb', str(a.generate_mb)] if a.generate_mb else ['--jsonl', a.jsonl, '--text-field', a.text_field, '--limit-mb', str(a.limit_mb)]
        corpus_mod.main(args)
    with open(os.path.join(cdir, 'corpus.json')) as f:
        meta = json.load(f)
    result['corpus'] = meta | {'dir': os.path.abspath(cdir)}
    tokens_path = os.path.join(cdir, 'tokens.u8')
    with open(tokens_path, 'rb') as f:
        blob = f.read()
    doc_starts, doc_ends = [], []
    pos = 0
    while pos < len(blob):
        e = blob.index(SEPARATOR, pos)
        doc_starts.append(pos)
        doc_ends.append(e)
        pos = e + 1
    N = meta['tokens']
    log(f"corpus: {meta['documents']} documents, {N} tokens ({cdir})")

    # ---- which peers
    have = {}
    for name, mod in (('infinigram', 'infini_gram.engine'), ('pydivsufsort', 'pydivsufsort'), ('numpy', 'numpy')):
        try:
            importlib.import_module(mod)
            have[name] = True
        except Exception as e:  # noqa: BLE001
            have[name] = False
            result['skipped'][name] = f'{mod} not importable: {e}'
            log(f'SKIP {name}: {mod} not importable ({e}); pip install -r bench/python/requirements.txt')
    ti_ok = shutil.which('node') is not None and os.path.exists(os.path.join(ROOT, 'dist', 'lib', 'index.js')) and 'traceindex' not in skip
    if not ti_ok:
        result['skipped']['traceindex'] = 'node or dist/lib/index.js missing (npm install && npx tsc -p .), or --skip'
        log('SKIP traceindex: ' + result['skipped']['traceindex'])
    ig_ok = have['infinigram'] and 'infinigram' not in skip

    # ---- builds (one at a time)
    ti_dir, ig_dir = os.path.join(a.work, 'traceindex-idx'), os.path.join(a.work, 'infinigram-idx')
    builds = {}
    if ti_ok:
        log('building traceindex ...')
        builds['traceindex'] = build_traceindex(a, cdir, ti_dir)
        files = dir_bytes(ti_dir)
        sa_tok = sum(v for k, v in files.items() if os.path.basename(k) in ('tokens.bin', 'sa.bin'))
        builds['traceindex'] |= {'files': files, 'bytesOnDisk': sum(files.values()), 'bytesPerToken': sum(files.values()) / N,
                                 'tokensAndSaBytesPerToken': sa_tok / N}
    if ig_ok:
        log('building infini-gram ...')
        try:
            builds['infinigram'] = build_infinigram(a, cdir, ig_dir)
            files = dir_bytes(ig_dir)
            sa_tok = sum(v for k, v in files.items() if k.startswith(('tokenized.', 'table.')))
            builds['infinigram'] |= {'files': files, 'bytesOnDisk': sum(files.values()), 'bytesPerToken': sum(files.values()) / N,
                                     'tokensAndSaBytesPerToken': sa_tok / N,
                                     'pointerBytes': files.get('table.0', 0) // max(1, files.get('tokenized.0', 1))}
        except Exception as e:  # noqa: BLE001
            ig_ok = False
            result['skipped']['infinigram'] = str(e)
            log(f'SKIP infini-gram: {e}')
    result['build'] = builds

    # ---- suffix-array construction: pydivsufsort vs ours
    sa_from_divsufsort = None
    if 'sa' not in skip:
        log('suffix arrays ...')
        sa = time_sa(a, tokens_path, meta)
        sa_from_divsufsort = sa.pop('_sa', None)
        if 'traceindex' in sa and sa['traceindex'].get('seconds') is None and 'traceindex' in builds:
            sa['traceindex']['seconds'] = builds['traceindex'].get('buildIndex', {}).get('seconds')
        result['suffixArray'] = sa

    # ---- infini-gram's table against divsufsort of its own token stream (u8: byte order = token order)
    if ig_ok and have['pydivsufsort'] and 'sa' not in skip and os.path.getsize(os.path.join(ig_dir, 'tokenized.0')) < 2**31:
        import numpy as np
        from pydivsufsort import divsufsort
        t = np.fromfile(os.path.join(ig_dir, 'tokenized.0'), dtype=np.uint8)
        raw = np.fromfile(os.path.join(ig_dir, 'table.0'), dtype=np.uint8)
        pw = len(raw) // len(t)
        cols = raw.reshape(-1, pw).astype(np.uint64)
        ptr = sum(cols[:, i] << np.uint64(8 * i) for i in range(pw))
        ref_sa = divsufsort(t).astype(np.uint64)
        result['infinigramTableCheck'] = {'pointerBytes': pw, 'entries': len(t), 'equalToDivsufsort': bool((ref_sa == ptr).all())}
        del t, raw, cols, ptr, ref_sa

    # ---- Python reference index (TraceAlign, absent-query labels)
    ref = None
    if have['numpy'] and 'tracealign' not in skip:
        from tracealign_reference import SuffixIndex
        builder = a.reference_builder if (a.reference_builder == 'numpy' or have['pydivsufsort']) else 'numpy'
        log(f'Python reference index ({builder}) ...')
        reuse = sa_from_divsufsort if builder == 'divsufsort' else None
        ref = SuffixIndex(blob, builder, sa=reuse)
        result['reference'] = {'builder': builder, 'buildSeconds': ref.build_seconds if reuse is None else result['suffixArray']['pydivsufsort']['seconds']}
    present_fn = (lambda q: ref.count(q) > 0) if ref else (lambda q: q in blob)

    lengths = [int(x) for x in a.lengths.split(',')]
    qs = sample_queries(blob, doc_starts, doc_ends, lengths, a.queries, present_fn, rng)
    flat = [(L, kind, q) for L in lengths for kind in ('present', 'absent') for q in qs[L][kind]]
    contexts = [q for L in lengths if L >= 5 for q in qs[L]['present'] + qs[L]['absent']]
    rng.shuffle(contexts)
    contexts = contexts[:a.next]
    outputs = make_outputs(blob, doc_starts, doc_ends, a.outputs, a.output_tokens, rng)

    # ---- TraceShield reference (Python) first: it fixes tau
    ta = None
    if ref is not None:
        from tracealign_reference import shield
        t = time.perf_counter()
        ref_shield = shield(ref, outputs, math.inf, a.window)
        ref_secs = time.perf_counter() - t
        vals = sorted(r['maxBci'] for r in ref_shield)
        tau = a.tau if a.tau is not None else (vals[len(vals) // 2 - 1] + vals[len(vals) // 2]) / 2 if len(vals) > 1 else vals[0]
        for r in ref_shield:
            r['refuse'] = r['windows'] > 0 and r['maxBci'] > tau
        ta = {'tau': tau, 'window': a.window, 'outputs': len(outputs), 'pythonSeconds': ref_secs, 'reference': ref_shield}

    # ---- counts: both tools' forms, rounds interleaved
    log('counts, rounds alternating the tools ...')
    cr = count_rounds([q for _, _, q in flat], a.rounds, ig_dir if ig_ok else None, ti_dir if ti_ok else None, a.work)

    # ---- infini-gram queries
    ig = {}
    if ig_ok:
        log('infini-gram queries ...')
        eng = ig_engine(ig_dir)
        ig['count'] = cr['infinigram']
        ig['countNoPrefetch'] = cr['infinigramNoPrefetch']
        lat, res = ig_time(lambda q: eng.infgram_ntd(list(q), max_support=a.max_support), contexts, a.rounds)
        ig['next'] = {'latencyNs': lat, 'results': res, 'maxSupport': a.max_support}
        lat, res = ig_time(lambda q: eng.attribute(list(q), delim_ids=[], min_len=1, max_cnt=10**18, enforce_bow=False), outputs, a.rounds)
        ig['attribute'] = {'latencyNs': lat, 'results': res}
        ig['totalTokens'] = N + meta['documents']  # infini-gram's tok_cnt counts the separators
        del eng

    # ---- traceindex queries (its own binding, from Node)
    ti = {}
    if ti_ok:
        log('traceindex queries ...')
        job = {'index': ti_dir, 'rounds': a.rounds, 'next': [list(q) for q in contexts],
               'trace': [list(o) for o in outputs], 'traceOptions': {'minLength': 1, 'maxDocuments': 0}}
        if ta:
            job['shield'] = {'outputs': [list(o) for o in outputs], 'tau': ta['tau'], 'window': a.window}
        jf = os.path.join(a.work, 'ti-job.json')
        with open(jf, 'w') as f:
            json.dump(job, f)
        pr = subprocess.run(['node', os.path.join(HERE, 'ti_bench.js'), jf], capture_output=True, text=True, cwd=ROOT)
        if pr.returncode != 0:
            raise SystemExit(f'ti_bench.js failed:\n{pr.stderr}')
        ti = json.loads(pr.stdout)
        t = cr['traceindex']
        ti['count'] = {'counts': t['counts'], 'latencyNs': t['countSync'], 'batchNsPerQuery': min(t['batchSync']) / len(flat)}

    # ---- checks and figures
    checks = {}
    counts = {}
    if ti and ig:
        ti_c, ig_c = [int(x) for x in ti['count']['counts']], ig['count']['counts']
        bad = [i for i in range(len(flat)) if ti_c[i] != ig_c[i]]
        bad += [i for i in range(len(flat)) if ig['countNoPrefetch']['counts'][i] != ig_c[i]]
        checks['countsAgree'] = {'queries': len(flat), 'mismatches': len(bad),
                                 'examples': [{'query': list(flat[i][2]), 'traceindex': ti_c[i], 'infinigram': ig_c[i]} for i in bad[:5]]}
    if ref is not None and (ti or ig):
        src = [int(x) for x in ti['count']['counts']] if ti else ig['count']['counts']
        wrong_absent = sum(1 for i, (_, k, _) in enumerate(flat) if (k == 'absent') != (src[i] == 0))
        checks['presentAbsentLabels'] = {'wrong': wrong_absent}
    for L in lengths:
        for kind in ('present', 'absent'):
            idx = [i for i, (l, k, _) in enumerate(flat) if l == L and k == kind]
            if not idx:
                continue
            row = {'queries': len(idx)}
            for name, src in (('traceindex', ti.get('count')), ('infinigram', ig.get('count'))):
                if src:
                    n = len(flat)
                    row[name] = lat_stats([src['latencyNs'][r * n + i] for r in range(a.rounds) for i in idx])
            row['ratioP50'] = ratio(row.get('infinigram', {}).get('p50us'), row.get('traceindex', {}).get('p50us'))
            row['ratioP99'] = ratio(row.get('infinigram', {}).get('p99us'), row.get('traceindex', {}).get('p99us'))
            counts[f'{L}/{kind}'] = row
    result['count'] = counts
    if ti:
        result['countBatch'] = {'traceindexNsPerQuery': ti['count']['batchNsPerQuery'], 'queries': len(flat)}
    # Every form over all queries (per call; batches: best round's wall time / queries), against both engines.
    forms = {}
    for name in ('infinigram', 'infinigramNoPrefetch'):
        if name in cr:
            forms[name] = lat_stats(cr[name]['latencyNs'])
    if 'traceindex' in cr:
        t = cr['traceindex']
        for key, *_ in TI_FORMS:
            forms[key] = lat_stats(t[key]) if not key.startswith('batch') else \
                {'p50us': min(t[key]) / len(flat) / 1000, 'p99us': None, 'best': 'round'}
    result['countForms'] = {'queries': len(flat), 'rounds': a.rounds, 'interleaved': True, 'forms': forms}

    # ∞-gram: infini-gram's distribution has an end-of-document pseudo-token (IG_EOS) where a context occurrence
    # ends a document; traceindex's does not count those (the suffix must be followed by a token).
    if ti and ig:
        same = eos_ctx = eos_same = diff = approx = 0
        examples = []
        for i, q in enumerate(contexts):
            r_ig, r_ti = ig['next']['results'][i], ti['next']['results'][i]
            if r_ig['approx']:
                approx += 1
                continue
            d_ig = {t: v['cont_cnt'] for t, v in r_ig['result_by_token_id'].items()}
            d_ti = dict(zip(r_ti['tokens'], (int(c) for c in r_ti['counts'])))
            if IG_EOS in d_ig:
                eos_ctx += 1
                d_ig.pop(IG_EOS)
                if r_ig['suffix_len'] == r_ti['suffixLength'] and d_ig == d_ti:
                    eos_same += 1
                continue
            if r_ig['suffix_len'] == r_ti['suffixLength'] and d_ig == d_ti:
                same += 1
            else:
                diff += 1
                if len(examples) < 3:
                    examples.append({'context': list(q), 'infinigram': {'suffix_len': r_ig['suffix_len'], 'dist': d_ig},
                                     'traceindex': {'suffixLength': r_ti['suffixLength'], 'dist': d_ti}})
        checks['nextTokens'] = {'contexts': len(contexts), 'identical': same, 'differentWithoutEos': diff,
                                'withEndOfDocument': eos_ctx, 'withEndOfDocumentSameAfterDroppingIt': eos_same, 'approximateSkipped': approx, 'examples': examples}
    result['next'] = {
        'contexts': len(contexts), 'maxSupport': a.max_support,
        'traceindex': lat_stats(ti['next']['latencyNs']) if ti else None,
        'infinigram': lat_stats(ig['next']['latencyNs']) if ig else None,
    }
    result['next']['ratioP50'] = ratio((result['next']['infinigram'] or {}).get('p50us'), (result['next']['traceindex'] or {}).get('p50us'))

    # Search cores on the calling thread, same files: bench_infinigram's own queries (windows of the text) and
    # checks (it exits non-zero when any core or path disagrees).
    if a.cores and ig_ok:
        log('search cores (bench_infinigram) ...')
        cmd = [a.cores, '--dir', ig_dir, '--ours', os.path.join(a.work, 'cores-ours'), '--queries', '2000',
               '--rounds', str(a.rounds), '--infinigram', '--next-queries', '200', '--outputs', '200']
        pr = subprocess.run(cmd, capture_output=True, text=True)
        result['cores'] = {'command': ' '.join(cmd), 'exit': pr.returncode, 'report': pr.stdout}
        checks['cores'] = {'mismatches': 0 if pr.returncode == 0 else 1}
        if pr.returncode != 0:
            log(f'bench_infinigram failed ({pr.returncode}):\n{pr.stderr[-2000:]}')

    # Spans: infini-gram attribute(min_len=1, max_cnt=inf, no delimiters, enforce_bow=False) vs traceindex
    # trace(minLength 1, no maxCount, no delimiters, wordBoundaries off).
    if ti and ig:
        n_ti = N
        n_ig = ig['totalTokens']
        bad, bci_bad, spans = 0, 0, 0
        examples = []
        for i in range(len(outputs)):
            s_ig = [(s['l'], s['r'], s['count']) for s in ig['attribute']['results'][i]['spans']]
            s_ti = [(s[0], s[1], int(s[2])) for s in ti['trace']['results'][i]]
            spans += len(s_ti)
            if s_ig != s_ti:
                bad += 1
                if len(examples) < 3:
                    examples.append({'output': i, 'infinigram': s_ig[:20], 'traceindex': s_ti[:20]})
                continue
            for s_i, s_t in zip(ig['attribute']['results'][i]['spans'], ti['trace']['results'][i]):
                mapped = -s_i['unigram_logprob_sum'] - (s_i['r'] - s_i['l']) * math.log(n_ig / n_ti)
                if abs(mapped - s_t[3]) > 1e-4 * max(1.0, abs(s_t[3])) + 1e-3:
                    bci_bad += 1
        checks['spans'] = {'outputs': len(outputs), 'spans': spans, 'outputsDiffering': bad, 'bciMismatches': bci_bad, 'examples': examples}
    result['trace'] = {
        'outputs': len(outputs), 'outputTokens': a.output_tokens,
        'traceindex': lat_stats(ti['trace']['latencyNs']) if ti else None,
        'infinigram': lat_stats(ig['attribute']['latencyNs']) if ig else None,
    }
    result['trace']['ratioP50'] = ratio((result['trace']['infinigram'] or {}).get('p50us'), (result['trace']['traceindex'] or {}).get('p50us'))

    if ta:
        ta_out = {k: v for k, v in ta.items() if k != 'reference'}
        if ti and 'shield' in ti:
            dec_ref = [r['refuse'] for r in ta['reference']]
            dec_ti = [r['refuse'] for r in ti['shield']['results']]
            dis = [i for i in range(len(dec_ref)) if dec_ref[i] != dec_ti[i]]
            maxdiff = max((abs(r['maxBci'] - t['maxBci']) for r, t in zip(ta['reference'], ti['shield']['results'])), default=0.0)
            wdiff = sum(1 for r, t in zip(ta['reference'], ti['shield']['results']) if r['windows'] != t['windows'])
            checks['traceShield'] = {'outputs': len(dec_ref), 'refused': sum(dec_ref), 'disagreements': len(dis),
                                     'maxAbsBciDifference': maxdiff, 'occurringWindowCountDiffers': wdiff}
            ta_out['traceindexSeconds'] = ti['shield']['batchNs'] / 1e9
            ta_out['ratio'] = ratio(ta['pythonSeconds'], ta_out['traceindexSeconds'])
        result['traceShield'] = ta_out
    if 'infinigramTableCheck' in result:
        checks['infinigramTable'] = {'mismatches': 0 if result['infinigramTableCheck']['equalToDivsufsort'] else 1,
                                     'pointerBytes': result['infinigramTableCheck']['pointerBytes']}
    result['checks'] = checks
    result['raw'] = {'infinigramCountApprox': ig.get('count', {}).get('approx') if ig else None,
                     'traceindexInfo': ti.get('info') if ti else None}

    os.makedirs(os.path.dirname(os.path.abspath(a.json_out)), exist_ok=True)
    with open(a.json_out, 'w') as f:
        json.dump(result, f, indent=1, default=str)
    print(markdown(result))
    log(f'wrote {a.json_out}')
    ok = all(c.get('mismatches', 0) == 0 and c.get('outputsDiffering', 0) == 0 and c.get('disagreements', 0) == 0
             and c.get('bciMismatches', 0) == 0 and c.get('differentWithoutEos', 0) == 0 and c.get('wrong', 0) == 0
             for c in checks.values())
    sys.exit(0 if ok else 1)


def fmt(x, d=2):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return '–'
    return f'{x:.{d}f}' if isinstance(x, float) else str(x)


def markdown(r: dict) -> str:
    m, c = r['machine'], r['corpus']
    b = r.get('build', {})
    ti, ig = b.get('traceindex', {}), b.get('infinigram', {})
    L = []
    L.append(f"## traceindex vs infini-gram / pydivsufsort / Python TraceAlign — {c['tokens'] / 1e6:.1f} M tokens")
    L.append('')
    L.append(f"Corpus: {c['source']}; {c['documents']} documents, {c['tokens']} UTF-8 byte tokens. "
             f"Machine: {m['cpu']}, {m['logicalCores']} cores, {(m['memoryBytes'] or 0) / 2**30:.0f} GiB, load {m['loadAverage'][0]:.2f} at start. "
             f"Packages: {', '.join(f'{k} {v}' for k, v in m['packages'].items())}; node {m['node']}.")
    L.append(f"Command: `{r['command']}`")
    if r['skipped']:
        L.append('Skipped: ' + '; '.join(f'{k}: {v}' for k, v in r['skipped'].items()))
    L.append('')
    L.append('| figure | traceindex | infini-gram | infini-gram / traceindex |')
    L.append('|---|---|---|---|')
    L.append(f"| build wall s | {fmt(ti.get('wallSeconds'))} | {fmt(ig.get('wallSeconds'))} | {fmt(ratio(ig.get('wallSeconds'), ti.get('wallSeconds')))} |")
    L.append(f"| build peak RSS MiB (largest process) | {fmt(ti.get('peakRssMiB'), 1)} | {fmt(ig.get('peakRssMiB'), 1)} | {fmt(ratio(ig.get('peakRssMiB'), ti.get('peakRssMiB')))} |")
    L.append(f"| bytes/token on disk, all files | {fmt(ti.get('bytesPerToken'), 3)} | {fmt(ig.get('bytesPerToken'), 3)} | {fmt(ratio(ig.get('bytesPerToken'), ti.get('bytesPerToken')))} |")
    L.append(f"| bytes/token, tokens + suffix array | {fmt(ti.get('tokensAndSaBytesPerToken'), 3)} | {fmt(ig.get('tokensAndSaBytesPerToken'), 3)} | {fmt(ratio(ig.get('tokensAndSaBytesPerToken'), ti.get('tokensAndSaBytesPerToken')))} |")
    for k, row in r.get('count', {}).items():
        t, g = row.get('traceindex', {}), row.get('infinigram', {})
        L.append(f"| count {k} p50 / p99 µs ({row['queries']} q) | {fmt(t.get('p50us'))} / {fmt(t.get('p99us'))} | {fmt(g.get('p50us'))} / {fmt(g.get('p99us'))} | {fmt(row.get('ratioP50'))} / {fmt(row.get('ratioP99'))} |")
    if 'countBatch' in r:
        L.append(f"| countBatchSync µs/query ({r['countBatch']['queries']} q) | {fmt(r['countBatch']['traceindexNsPerQuery'] / 1000, 3)} | – | – |")
    cf = r.get('countForms')
    if cf:
        f = cf['forms']
        ig_d, ig_o = f.get('infinigram', {}), f.get('infinigramNoPrefetch', {})
        L.append('')
        L.append(f"Count, every form over all {cf['queries']} queries, {cf['rounds']} rounds alternating the tools "
                 "(µs per call; batches: best round / queries):")
        L.append('')
        L.append('| form | p50 / p99 µs | infini-gram (default prefetch) / this, p50 | infini-gram (prefetch off) / this, p50 |')
        L.append('|---|---|---|---|')
        L.append(f"| infini-gram `engine.count`, default prefetch | {fmt(ig_d.get('p50us'))} / {fmt(ig_d.get('p99us'))} | | |")
        L.append(f"| infini-gram `engine.count`, prefetch off | {fmt(ig_o.get('p50us'))} / {fmt(ig_o.get('p99us'))} | | |")
        for key, label, *_ in TI_FORMS:
            x = f.get(key)
            if x:
                L.append(f"| traceindex {label} | {fmt(x['p50us'], 3)} / {fmt(x['p99us'])} | "
                         f"{fmt(ratio(ig_d.get('p50us'), x['p50us']))} | {fmt(ratio(ig_o.get('p50us'), x['p50us']))} |")
        L.append('')
    n = r.get('next', {})
    L.append(f"| ∞-gram next tokens p50 / p99 µs ({n.get('contexts')} contexts) | {fmt((n.get('traceindex') or {}).get('p50us'))} / {fmt((n.get('traceindex') or {}).get('p99us'))} | {fmt((n.get('infinigram') or {}).get('p50us'))} / {fmt((n.get('infinigram') or {}).get('p99us'))} | {fmt(n.get('ratioP50'))} |")
    t = r.get('trace', {})
    L.append(f"| spans: trace vs attribute p50 / p99 ms ({t.get('outputs')} × {t.get('outputTokens')} tokens) | {fmt((t.get('traceindex') or {}).get('p50us', float('nan')) / 1000, 3)} / {fmt((t.get('traceindex') or {}).get('p99us', float('nan')) / 1000, 3)} | {fmt((t.get('infinigram') or {}).get('p50us', float('nan')) / 1000, 3)} / {fmt((t.get('infinigram') or {}).get('p99us', float('nan')) / 1000, 3)} | {fmt(t.get('ratioP50'))} |")
    L.append('')
    sa = r.get('suffixArray')
    if sa:
        pd, ours = sa.get('pydivsufsort', {}), sa.get('traceindex', {})
        L.append('| suffix array of tokens.u8 | seconds | pydivsufsort / traceindex |')
        L.append('|---|---|---|')
        L.append(f"| pydivsufsort (divsufsort) | {fmt(pd.get('seconds'), 3) if 'seconds' in pd else pd.get('skipped')} | |")
        L.append(f"| traceindex: {ours.get('source') or 'not run (no pydivsufsort to compare with)'} | {fmt(ours.get('seconds'), 3)} | {fmt(ratio(pd.get('seconds'), ours.get('seconds')))} |")
        L.append('')
    ts = r.get('traceShield')
    if ts:
        L.append(f"| TraceShield, window {ts['window']}, τ = {ts['tau']:.3f}, {ts['outputs']} outputs | seconds | Python / traceindex |")
        L.append('|---|---|---|')
        L.append(f"| Python reference (tracealign_reference.py; index built by {r['reference']['builder']} in {r['reference']['buildSeconds']:.2f} s, not counted) | {fmt(ts['pythonSeconds'], 3)} | |")
        L.append(f"| traceindex shieldBatch | {fmt(ts.get('traceindexSeconds'), 4)} | {fmt(ts.get('ratio'), 1)} |")
        L.append('')
    if r.get('cores'):
        L.append(f"Search cores on the calling thread, same files (`{r['cores']['command']}`):")
        L.append('')
        L.append(r['cores']['report'])
    L.append('Checks: ' + json.dumps(r.get('checks', {}), default=str))
    L.append('')
    L.append('Ratios above 1: traceindex is faster / smaller. Figures from a shared machine are indicative only.')
    return '\n'.join(L)


if __name__ == '__main__':
    main()
