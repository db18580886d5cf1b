/**
 * `traceindex serve DIR[=NAME]... [options]`: opens the indexes, serves them until SIGTERM or SIGINT, then drains
 * (in-flight requests get --drain-ms), closes the indexes and resolves with the exit code (0; 2 for bad usage,
 * 1 when the server could not start).
 */
import cluster from 'node:cluster';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ListeningMessage, runPrimary } from './cluster';
import { createServer, TraceIndexServer } from './server';
import { Limits } from './limits';
import { BatchedLog } from './log-stream';
import { LIMIT_FLAGS, SERVE_FLAGS, SERVE_USAGE } from './usage';

export { SERVE_USAGE };


function usage(message: string): number {
  process.stderr.write(`traceindex serve: ${message}\n\n${SERVE_USAGE}\n`);
  return 2;
}

/** Runs `serve` until SIGTERM/SIGINT; `argv` may start with the word 'serve'. */
export async function runServe(argv: string[]): Promise<number> {
  const args = argv[0] === 'serve' ? argv.slice(1) : argv;
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: SERVE_FLAGS,
    });
  } catch (err) {
    return usage((err as Error).message);
  }
  const flags = parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (flags.help) {
    process.stdout.write(SERVE_USAGE + '\n');
    return 0;
  }
  if (parsed.positionals.length === 0) return usage('name at least one index directory');
  const int = (name: string): number | undefined => {
    const v = flags[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} takes a non-negative integer, got ${String(v)}`);
    return n;
  };
  const indexes: Record<string, { dir: string; open?: { tokenizer?: string } }> = {};
  const limits: Partial<Limits> = {};
  let port: number;
  let workers: number;
  try {
    for (const spec of parsed.positionals) {
      const eq = spec.lastIndexOf('=');
      const dir = eq > 0 ? spec.slice(0, eq) : spec;
      const name = eq > 0 ? spec.slice(eq + 1) : path.basename(path.resolve(dir));
      if (indexes[name]) throw new Error(`two indexes named ${name}: give one DIR=NAME`);
      indexes[name] = { dir, open: typeof flags.tokenizer === 'string' ? { tokenizer: flags.tokenizer } : undefined };
    }
    for (const [flag, key] of Object.entries(LIMIT_FLAGS)) {
      const v = int(flag);
      if (v !== undefined) limits[key] = v;
    }
    port = int('port') ?? 8080;
    if (port > 65535) throw new Error('--port must be at most 65535');
    workers = int('workers') ?? 1;
    if (workers < 1 || workers > 256) throw new Error('--workers must be between 1 and 256');
  } catch (err) {
    return usage((err as Error).message);
  }
  if (workers > 1 && cluster.isPrimary) {
    const i = args.findIndex((a) => a === '--workers' || a.startsWith('--workers='));
    const rest = args.filter((_, k) => k !== i && !(k === i + 1 && args[i] === '--workers'));
    return runPrimary(rest, workers, Object.keys(indexes));
  }
  const level = typeof flags['log-level'] === 'string' ? flags['log-level'] : 'info';
  let server: TraceIndexServer;
  try {
    server = await createServer({
      indexes,
      ...limits,
      tokenFile: typeof flags['token-file'] === 'string' ? flags['token-file'] : undefined,
      cors: Array.isArray(flags.cors) ? (flags.cors.includes('*') ? '*' : flags.cors) : false,
      preload: Boolean(flags.preload),
      eosTokenId: int('eos-token-id'),
      logger: level === 'silent' ? false : { level, stream: new BatchedLog() },
      metricLabels: cluster.isWorker ? { worker: String(process.pid) } : undefined,
    });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    process.stderr.write(`traceindex: ${e.code ?? 'ERR'}: ${e.message}\n`);
    return 1;
  }
  const host = typeof flags.host === 'string' ? flags.host : '127.0.0.1';
  let address;
  try {
    address = await server.listen({ port, host });
  } catch (err) {
    process.stderr.write(`traceindex: cannot listen on ${host}:${port}: ${(err as Error).message}\n`);
    await server.shutdown({ drainMs: 0 });
    return 1;
  }
  if (cluster.isWorker) process.send!({ traceindex: 'listening', url: address.url } satisfies ListeningMessage);
  else process.stderr.write(`traceindex: serving ${Object.keys(indexes).join(', ')} at ${address.url}\n`);
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      // A single process lets a second signal take the default action (a second Ctrl-C stops it at once); a
      // worker ignores repeats: Ctrl-C reaches it and the primary's SIGTERM follows.
      if (cluster.isWorker) process.on('SIGTERM', () => {}).on('SIGINT', () => {});
      else process.stderr.write(`traceindex: ${signal}: draining (up to ${server.limits.drainMs} ms)\n`);
      server.shutdown().then(() => resolve(0), (err) => {
        process.stderr.write(`traceindex: shutdown: ${(err as Error).message}\n`);
        resolve(1);
      });
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}
