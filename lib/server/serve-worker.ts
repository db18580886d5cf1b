/** The entry point of a `traceindex serve --workers N` worker process (./cluster): `serve` with the same flags. */
import { runServe } from './serve';

runServe(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  process.stderr.write(`traceindex: worker: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
