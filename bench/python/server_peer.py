#!/usr/bin/env python3
"""
The Python peer of bench/server.ts: an HTTP server doing the job infini-gram's own API server does (JSON body in,
one InfiniGramEngine call, JSON out: POST / with index, query_type and query_ids), over the same data as the
traceindex server it is compared with. It runs on Python's ThreadingHTTPServer (the engine releases the GIL in
its calls), so it needs nothing beyond bench/python/requirements.txt.

    python bench/python/server_peer.py --index-dir IG_INDEX --token-dtype u8 --port 0

prints "listening on PORT" once it accepts requests; SIGTERM stops it.
"""
import argparse
import json
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from infini_gram.engine import InfiniGramEngine

ENGINE = None
NAME = 'main'
MAX_QUERY_TOKENS = 65536


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    # Headers and body leave in two writes: without TCP_NODELAY the body waits out the client's delayed ACK
    # (40 ms per request on loopback), which would measure Linux's timers, not the engine.
    disable_nagle_algorithm = True

    def log_message(self, *args):  # quiet, like the traceindex server in the bench
        pass

    def answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header('content-type', 'application/json')
        self.send_header('content-length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        try:
            data = json.loads(self.rfile.read(int(self.headers.get('content-length', 0))))
            query_type = data['query_type']
            ids = data['query_ids']
            if (data.get('index') or data.get('corpus')) != NAME:
                return self.answer(400, {'error': f"Invalid index: {data.get('index')}"})
            if not isinstance(ids, list) or len(ids) > MAX_QUERY_TOKENS:
                return self.answer(400, {'error': 'query_ids must be a list of at most %d integers' % MAX_QUERY_TOKENS})
        except (ValueError, KeyError, TypeError) as e:
            return self.answer(400, {'error': f'bad request: {e}'})
        start = time.time()
        if query_type == 'count':
            result = ENGINE.count(input_ids=ids)
        elif query_type == 'ntd':
            result = ENGINE.ntd(prompt_ids=ids, max_support=data.get('max_support', 1000))
        elif query_type == 'attribute':
            result = ENGINE.attribute(input_ids=ids, delim_ids=data.get('delim_ids', []), min_len=data.get('min_len', 1),
                                      max_cnt=data.get('max_cnt', 10), enforce_bow=False)
        else:
            return self.answer(400, {'error': f'Invalid query_type: {query_type}'})
        if 'error' in result:
            return self.answer(400, result)
        result['latency'] = (time.time() - start) * 1000
        result['token_ids'] = ids
        return self.answer(200, result)


def main():
    global ENGINE, NAME
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--index-dir', required=True)
    p.add_argument('--name', default='main')
    p.add_argument('--token-dtype', default='u8', choices=['u8', 'u16', 'u32'])
    p.add_argument('--eos-token-id', type=int, default=254)
    p.add_argument('--vocab-size', type=int, default=255)
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=5000)
    a = p.parse_args()
    NAME = a.name
    ENGINE = InfiniGramEngine(index_dir=a.index_dir, eos_token_id=a.eos_token_id, vocab_size=a.vocab_size, version=4,
                              token_dtype=a.token_dtype, precompute_unigram_logprobs=True)
    server = ThreadingHTTPServer((a.host, a.port), Handler)
    server.daemon_threads = True
    server.handle_error = lambda *_: None  # a load generator closing its connections is not news
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f'listening on {server.server_address[1]}', flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == '__main__':
    main()
