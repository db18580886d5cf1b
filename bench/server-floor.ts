/**
 * The floor under `traceindex serve`'s per-request cost (bench/server.ts --floors): a server that reads a JSON
 * body, parses it and answers a constant JSON body, with nothing else: `http` on bare node:http, `fastify` as one
 * fastify 5 route (no hooks, no logger, no schema). What they answer under the bench's load is as far as that
 * stack goes on this machine; our server's distance to them is the cost that is ours.
 *
 *   node dist/bench/server-floor.js http|fastify   (listens on a free loopback port, prints "at http://127.0.0.1:PORT")
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';

const BODY = '{"result":0}';

async function main(kind: string): Promise<void> {
  let server: http.Server;
  if (kind === 'http') {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          res.writeHead(400).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': BODY.length }).end(BODY);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  } else if (kind === 'fastify') {
    const app = Fastify({ logger: false });
    app.post('/v1/indexes/:name/:op', async () => ({ result: 0 }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    server = app.server;
  } else {
    throw new Error(`usage: server-floor.js http|fastify (got ${kind})`);
  }
  process.stderr.write(`floor ${kind} at http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  process.on('SIGINT', () => process.exit(0));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

main(process.argv[2]).catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
