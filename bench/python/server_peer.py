#!/usr/bin/env python3
"""
The Python peer of bench/server.ts: an HTTP server doing the job infini-gram's own API server does (JSON body in,
one InfiniGramEngine call, JSON out: POST / with index, query_type and query_ids), over the same data as the
traceindex server it is compared with, in one of three stacks:

  --framework fastapi  FastAPI on uvicorn (uvloop, httptools), a sync endpoint on its thread pool: the stack of
                       allenai/infinigram-api (`fastapi run`), with --workers processes (default 1, as it runs);
  --framework flask    Flask on gunicorn's gthread workers (--workers processes x --threads threads): the stack of
                       the original infini-gram API server (a Flask app, ten processes);
  --framework stdlib   Python's ThreadingHTTPServer, one process: the lightest Python server there is.

The engine releases the GIL in its calls, so threads search in parallel; --workers N opens the index in N
processes (the mappings are shared through the page cache).

    python bench/python/server_peer.py --index-dir IG_INDEX [--framework fastapi] [--workers 2] --port 0

prints "listening on PORT" once it accepts requests; SIGTERM stops it (and its workers).
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time

MAX_QUERY_TOKENS = 65536
_engine = None


def engine():
    """The process's engine, opened on first use (after a fork: each worker process opens its own)."""
    global _engine
    if _engine is None:
        from infini_gram.engine import InfiniGramEngine
        _engine = InfiniGramEngine(index_dir=os.environ['IG_PEER_INDEX_DIR'], eos_token_id=int(os.environ['IG_PEER_EOS']),
                                   vocab_size=int(os.environ['IG_PEER_VOCAB']), version=4,
                                   token_dtype=os.environ['IG_PEER_DTYPE'], precompute_unigram_logprobs=True)
    return _engine


def answer(data):
    """One request body (already parsed) -> (status, response object), the same for every framework."""
    try:
        query_type = data['query_type']
        ids = data['query_ids']
        name = os.environ['IG_PEER_NAME']
        if (data.get('index') or data.get('corpus')) != name:
            return 400, {'error': f"Invalid index: {data.get('index')}"}
        if not isinstance(ids, list) or len(ids) > MAX_QUERY_TOKENS:
            return 400, {'error': 'query_ids must be a list of at most %d integers' % MAX_QUERY_TOKENS}
    except (KeyError, TypeError) as e:
        return 400, {'error': f'bad request: {e}'}
    start = time.time()
    if query_type == 'count':
        result = engine().count(input_ids=ids)
    elif query_type == 'ntd':
        result = engine().ntd(prompt_ids=ids, max_support=data.get('max_support', 1000))
    elif query_type == 'attribute':
        result = engine().attribute(input_ids=ids, delim_ids=data.get('delim_ids', []), min_len=data.get('min_len', 1),
                                    max_cnt=data.get('max_cnt', 10), enforce_bow=False)
    else:
        return 400, {'error': f'Invalid query_type: {query_type}'}
    if 'error' in result:
        return 400, result
    result['latency'] = (time.time() - start) * 1000
    result['token_ids'] = ids
    return 200, result


def fastapi_app():
    """uvicorn --factory entry point."""
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    engine()  # opened as the worker starts, not on its first request
    app = FastAPI()

    @app.post('/')
    def query(body: dict):  # a sync endpoint: FastAPI runs it on its thread pool, as infinigram-api's engine calls run
        status, obj = answer(body)
        return JSONResponse(obj, status_code=status)

    return app


def flask_app():
    """gunicorn entry point."""
    from flask import Flask, request, jsonify

    engine()
    app = Flask(__name__)

    @app.post('/')
    def query():
        data = request.get_json(force=True, silent=True)
        if not isinstance(data, dict):
            return jsonify({'error': 'bad request: body is not a JSON object'}), 400
        status, obj = answer(data)
        return jsonify(obj), status

    return app


def serve_stdlib(host, port):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'
        # Headers and body leave in two writes: without TCP_NODELAY the body waits out the client's delayed ACK
        # (40 ms per request on loopback), which would measure Linux's timers, not the engine.
        disable_nagle_algorithm = True

        def log_message(self, *args):  # quiet, like the traceindex server in the bench
            pass

        def do_POST(self):
            try:
                data = json.loads(self.rfile.read(int(self.headers.get('content-length', 0))))
                status, obj = answer(data) if isinstance(data, dict) else (400, {'error': 'bad request: not an object'})
            except ValueError as e:
                status, obj = 400, {'error': f'bad request: {e}'}
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header('content-type', 'application/json')
            self.send_header('content-length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    engine()
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    server.handle_error = lambda *_: None  # a load generator closing its connections is not news
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f'listening on {server.server_address[1]}', flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def serve_child(cmd, host, port):
    """Runs a server process (uvicorn, gunicorn), says "listening" once it accepts, forwards SIGTERM."""
    here = os.path.dirname(os.path.abspath(__file__))
    child = subprocess.Popen(cmd, cwd=here, env={**os.environ, 'PYTHONPATH': here + os.pathsep + os.environ.get('PYTHONPATH', '')})
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    deadline = time.time() + 120
    while time.time() < deadline and child.poll() is None:
        try:
            with socket.create_connection((host, port), timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    if child.poll() is not None:
        sys.exit(f'server exited with {child.returncode}')
    print(f'listening on {port}', flush=True)
    sys.exit(child.wait())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--index-dir', required=True)
    p.add_argument('--name', default='main')
    p.add_argument('--token-dtype', default='u8', choices=['u8', 'u16', 'u32'])
    p.add_argument('--eos-token-id', type=int, default=254)
    p.add_argument('--vocab-size', type=int, default=255)
    p.add_argument('--framework', default='fastapi', choices=['fastapi', 'flask', 'stdlib'])
    p.add_argument('--workers', type=int, default=1, help='processes (fastapi, flask)')
    p.add_argument('--threads', type=int, default=16, help="gunicorn gthread threads per process (flask)")
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=5000)
    a = p.parse_args()
    os.environ.update(IG_PEER_INDEX_DIR=a.index_dir, IG_PEER_NAME=a.name, IG_PEER_DTYPE=a.token_dtype,
                      IG_PEER_EOS=str(a.eos_token_id), IG_PEER_VOCAB=str(a.vocab_size))
    if a.framework == 'stdlib':
        return serve_stdlib(a.host, a.port)
    port = a.port or free_port(a.host)
    if a.framework == 'fastapi':
        cmd = [sys.executable, '-m', 'uvicorn', 'server_peer:fastapi_app', '--factory', '--host', a.host, '--port', str(port),
               '--workers', str(a.workers), '--no-access-log', '--log-level', 'warning', '--loop', 'uvloop', '--http', 'httptools']
    else:
        cmd = [sys.executable, '-m', 'gunicorn', 'server_peer:flask_app()', '--bind', f'{a.host}:{port}', '--workers', str(a.workers),
               '--worker-class', 'gthread', '--threads', str(a.threads), '--log-level', 'warning', '--keep-alive', '60']
    serve_child(cmd, a.host, port)


if __name__ == '__main__':
    main()
