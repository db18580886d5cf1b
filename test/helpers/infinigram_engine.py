#!/usr/bin/env python3
"""
Answers of infini-gram's own engine (infini_gram.engine.InfiniGramEngine) on an index it built, for
test/server-infinigram.test.ts to compare with traceindex's infini-gram compatible endpoint (POST /).
Reads a JSON job {index_dir, token_dtype, eos_token_id, calls: [[method, kwargs], ...]} from argv[1] and prints
one JSON list with each call's result. Document pointers of `attribute` are resolved here to
(doc_ix, token offset) with get_doc_by_ptr, so the test can compare them with traceindex's documents.
"""
import json
import sys

from infini_gram.engine import InfiniGramEngine


def main():
    job = json.load(open(sys.argv[1]))
    engine = InfiniGramEngine(index_dir=job['index_dir'], eos_token_id=job['eos_token_id'], vocab_size=job['vocab_size'], version=4,
                              token_dtype=job['token_dtype'], precompute_unigram_logprobs=True)
    out = []
    for method, kwargs in job['calls']:
        if method == 'doc_len':
            out.append(engine.get_doc_by_ix(kwargs['doc_ix'], max_disp_len=1)['doc_len'])
            continue
        if method == 'metadata':
            out.append(engine.get_doc_by_ix(kwargs['doc_ix'], max_disp_len=1)['metadata'])
            continue
        result = getattr(engine, method)(**kwargs)
        if method == 'attribute':
            for span in result['spans']:
                docs = []
                for d in span['docs']:
                    # The C++ call itself: the Python wrapper wants even pointers (u16 indexes) and this one is u8.
                    doc = engine.engine.get_doc_by_ptr(s=d['s'], ptr=d['ptr'], max_disp_len=10 ** 9)
                    docs.append([doc.doc_ix, doc.needle_offset])
                span['docs'] = sorted(docs)
        out.append(result)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
