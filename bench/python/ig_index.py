#!/usr/bin/env python3
"""
Runs infini-gram's own indexer (`python -m infini_gram.indexing`, the v4 layout: tokenized.N, table.N, offset.N,
metadata.N, metaoff.N) with the arguments given, e.g.

    python bench/python/ig_index.py --data_dir D --save_dir S --temp_dir T --token_dtype u8 --cpus 1 --mem 4 --add_metadata

infini_gram.indexing.tokenize() imports `transformers` even when no tokenizer is used (it only sets its log
level). When transformers is not installed this wrapper registers a stand-in module for that one call, so that
the byte-level (--token_dtype u8, no --tokenizer) path runs without transformers and nothing is ever fetched
from a model hub. With transformers installed, the real module is used. The indexing itself is unchanged.
"""
import sys
import types

try:
    import transformers  # noqa: F401
except ImportError:
    t = types.ModuleType('transformers')
    u = types.ModuleType('transformers.utils')
    log = types.ModuleType('transformers.utils.logging')
    log.set_verbosity = lambda *a, **k: None
    u.logging = log
    t.utils = u
    sys.modules.update({'transformers': t, 'transformers.utils': u, 'transformers.utils.logging': log})

from infini_gram import indexing  # noqa: E402

if __name__ == '__main__':
    sys.argv = ['infini_gram.indexing'] + sys.argv[1:]
    indexing.main()
