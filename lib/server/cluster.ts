/**
 * `traceindex serve --workers N`: N server processes (node:cluster) sharing one listening socket, so that one
 * machine's cores all answer. Each worker opens the indexes itself; the mappings share the page cache, so N
 * workers cost N heaps, not N copies of an index. The primary only supervises: it reports the address once every
 * worker listens, replaces a worker that dies while serving, and on SIGTERM/SIGINT has every worker drain
 * (the single-process shutdown, docs/server.md) and exits 0 when all did. /metrics reports the worker that
 * answered the scrape (its `worker` label).
 */
import cluster, { Worker } from 'node:cluster';
import * as path from 'node:path';

/** Replacement workers that may exit in a row before serving (each after a longer pause) before serve stops. */
const MAX_REPLACEMENT_FAILURES = 5;

/** The message a worker sends once it listens. */
export interface ListeningMessage { traceindex: 'listening'; url: string }

export function isListeningMessage(m: unknown): m is ListeningMessage {
  return typeof m === 'object' && m !== null && (m as ListeningMessage).traceindex === 'listening';
}

/** The primary's node flags for its workers, less a script given inline (-e/-p), which is not theirs to run. */
function nodeFlags(execArgv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i];
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') i++;
    else if (!/^--(eval|print)=/.test(a)) out.push(a);
  }
  return out;
}

/** Runs `workers` copies of `serve args` and resolves with the exit code once they have all stopped. */
export function runPrimary(args: string[], workers: number, names: string[]): Promise<number> {
  cluster.setupPrimary({ exec: path.join(__dirname, 'serve-worker.js'), args, execArgv: nodeFlags(process.execArgv) });
  return new Promise<number>((resolve) => {
    const live = new Set<Worker>();
    let listening = 0;
    let started = false;
    let stopping = false;
    let failed = false;
    let failures = 0;  // replacements in a row that exited before they listened
    const spawn = () => {
      if (stopping) return;
      const w = cluster.fork();
      let listened = false;
      live.add(w);
      w.on('message', (m: unknown) => {
        if (!isListeningMessage(m)) return;
        listened = true;
        failures = 0;
        if (started) return;
        if (++listening === workers) {
          started = true;
          process.stderr.write(`traceindex: serving ${names.join(', ')} at ${m.url} (${workers} workers)\n`);
        }
      });
      w.on('exit', (code, signal) => {
        live.delete(w);
        if (!stopping && !started) {
          // A worker that could not start (a bad index, a port in use) said why on stderr: stop the others.
          failed = true;
          stop();
        } else if (!stopping && !listened && ++failures >= MAX_REPLACEMENT_FAILURES) {
          // Replacements keep failing to start (an index gone, a port taken): stop rather than fork forever.
          process.stderr.write(`traceindex: ${failures} replacement workers in a row exited before serving; stopping\n`);
          failed = true;
          stop();
        } else if (!stopping) {
          const delay = listened ? 0 : Math.min(30_000, 250 * 2 ** failures);
          process.stderr.write(`traceindex: worker ${w.process.pid} exited (${signal ?? code}); starting another${delay ? ` in ${delay} ms` : ''}\n`);
          setTimeout(spawn, delay);
        } else if (code !== 0) {
          failed = true;
        }
        if (stopping && live.size === 0) {
          process.off('SIGTERM', onTerm);
          process.off('SIGINT', onInt);
          resolve(failed ? 1 : 0);
        }
      });
    };
    const stop = () => {
      if (stopping) return;
      stopping = true;
      for (const w of live) w.process.kill('SIGTERM');
      if (live.size === 0) resolve(failed ? 1 : 0);
    };
    const onTerm = () => {
      if (!stopping) process.stderr.write('traceindex: SIGTERM: draining the workers\n');
      stop();
    };
    const onInt = () => {
      if (!stopping) process.stderr.write('traceindex: SIGINT: draining the workers\n');
      stop();
    };
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    for (let i = 0; i < workers; i++) spawn();
  });
}
