#!/usr/bin/env python3
"""
Runs infini-gram's own indexer (`python -m infini_gram.indexing`, the v4 layout: tokenized.N, table.N, offset.N,
metadata.N, metaoff.N) with the arguments given, e.g.

    python bench/python/ig_index.py --data_dir D --save_dir S --temp_dir T --token_dtype u8 --cpus 1 --mem 4 --add_metadata
    python bench/python/ig_index.py ... --token_dtype u16 --tokenizer llama --peer-vocab llama-2.json

infini_gram.indexing.tokenize() imports `transformers` even when no tokenizer is used (it only sets its log
level). When transformers is not installed this wrapper registers a stand-in module for that one call, so that
the byte-level (--token_dtype u8, no --tokenizer) path runs without transformers and nothing is ever fetched
from a model hub. With transformers installed, the real module is used. The indexing itself is unchanged.

--peer-vocab FILE (a vocabulary file of bench/peer-vocab.ts, as tokenizers_peer.py reads it) gives the
indexer's tokenizer path a model's tokenizer without a hub: the stand-in's AutoTokenizer.from_pretrained
returns, whatever model name the indexer asks for (pass --tokenizer llama or gpt2 to take that path), Python
tiktoken for tiktoken ranks and Hugging Face `tokenizers` (the fast Rust one, built as tokenizers_peer.py builds
it) for the Llama vocabularies: no BOS/EOS, special-token text encoded as text. The indexer then tokenizes in
its own process pool exactly as it does with its Hugging Face tokenizer.
"""
import json
import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


class PeerTokenizer:
    """What infini_gram.indexing calls on its tokenizer: encode(text) -> ids."""

    def __init__(self, vocab_file):
        import tokenizers_peer
        with open(vocab_file, encoding='utf-8') as f:
            spec = json.load(f)
        if spec['kind'] == 'tiktoken':
            import tiktoken
            enc = tiktoken.Encoding('peer', pat_str=spec['pat_str'], mergeable_ranks=tokenizers_peer.tiktoken_ranks(spec['bpe_ranks']), special_tokens={})
            self.encode = enc.encode_ordinary
        else:
            t = tokenizers_peer.hf_tokenizer(spec)
            self.encode = lambda text: t.encode(text, add_special_tokens=False).ids


vocab_file = None
if '--peer-vocab' in sys.argv:
    i = sys.argv.index('--peer-vocab')
    vocab_file = sys.argv[i + 1]
    del sys.argv[i:i + 2]

try:
    if vocab_file:
        raise ImportError  # the stand-in, even where transformers is installed: it would fetch from a hub
    import transformers  # noqa: F401
except ImportError:
    t = types.ModuleType('transformers')
    u = types.ModuleType('transformers.utils')
    log = types.ModuleType('transformers.utils.logging')
    log.set_verbosity = lambda *a, **k: None
    u.logging = log
    t.utils = u
    if vocab_file:
        encoder = PeerTokenizer(vocab_file)
        t.AutoTokenizer = types.SimpleNamespace(from_pretrained=lambda *a, **k: encoder)
    sys.modules.update({'transformers': t, 'transformers.utils': u, 'transformers.utils.logging': log})

from infini_gram import indexing  # noqa: E402

if __name__ == '__main__':
    sys.argv = ['infini_gram.indexing'] + sys.argv[1:]
    indexing.main()
