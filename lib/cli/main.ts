#!/usr/bin/env node
/**
 * The traceindex command line: `traceindex COMMAND ...`, one command per file in ./commands (the table in
 * ./commands/index.ts). Every query command prints a human summary, or one JSON object with --json.
 * Errors go to stderr with their code (as `{"error":{"code","message"}}` with --json). Exit codes: 0 success,
 * 1 an error, 2 a usage mistake (an unknown command or flag, a flag the command does not take, a malformed
 * or out-of-range value, a missing argument: one line and a hint), 3 shield refused the text, 130 / 143
 * interrupted by SIGINT / SIGTERM.
 */
import { parseArgs } from 'node:util';
import { version } from '../version';
import { Command, FLAGS, FlagName, Flags, interruptible, Interrupted, UsageError } from './command';
import { COMMANDS } from './commands';
import { SERVE_USAGE } from '../server/usage';

const HEADER = 'traceindex — exact provenance queries over suffix-array indexes';

const FOOTER = `Query commands also read an infini-gram index in place: DIR [--format infini-gram] [--token-width 1|2|4]
[--vocab-size V] [--tokenizer bytes] (format detected and width inferred when omitted).
Inputs: .txt (one document per file), .jsonl, .jsonl.gz, .jsonl.zst, directories, globs, - for stdin (JSONL).
Tokenizers: bytes (default), cl100k_base, o200k_base, llama-2, llama-3, a path to a tokenizer.json, or
pretokenized:VOCAB with --tokens-field. Query commands take --tokenizer PATH for a local copy of the index's.
traceindex help COMMAND (or COMMAND --help) shows one command's usage; traceindex --version its version.
Exit codes: 0 success, 1 error, 2 usage mistake, 3 shield refused, 130/143 interrupted (SIGINT/SIGTERM).
`;

function commandUsage(c: Command): string {
  return `  traceindex ${c.name} ${c.usage}\n      ${c.summary}\n`;
}

/** One command's help: its usage and every flag it takes. */
function commandHelp(c: Command): string {
  return `Usage:\n${commandUsage(c)}\nFlags: ${c.options.map((f) => `--${f}`).join(' ')} --help\n`;
}

/** The global usage, generated from the command table. */
export const USAGE = `${HEADER}\n\nUsage:\n${COMMANDS.map(commandUsage).join('')}  ${SERVE_USAGE}\n\n${FOOTER}`;

/** Parses argv with these flags only; an unknown flag or a missing value is a UsageError. */
function parse(argv: string[], names: readonly FlagName[], command?: string) {
  const options = Object.fromEntries(names.map((n) => [n, FLAGS[n]]));
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    const flag = /'(--?[^'=]+)/.exec((err as Error).message)?.[1];
    const unknown = /^Unknown option/.test((err as Error).message);
    throw new UsageError(command && unknown && flag ? `${command} does not take ${flag}` : (err as Error).message);
  }
}

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw new UsageError(`unknown command ${name}`);
  return command;
}

export async function main(argv: string[]): Promise<number> {
  // `serve` parses its own flags (lib/server/serve.ts) and resolves once SIGTERM/SIGINT has drained it; the
  // server's packages load only for it.
  if (argv[0] === 'serve') return (await import('../server/serve')).runServe(argv);
  let command: Command | undefined;
  let json = argv.includes('--json');
  try {
    // First pass with every flag: find the command (flags may come before it).
    const all = parse(argv, Object.keys(FLAGS) as FlagName[]);
    json = Boolean(all.values.json);
    const [name, ...args] = all.positionals;
    if (name === undefined) {
      if (all.values.version) {
        process.stdout.write(`${version}\n`);
        return 0;
      }
      process.stdout.write(USAGE);
      return all.values.help ? 0 : 2;
    }
    if (name === 'help') {
      if (args.length > 1) throw new UsageError('help takes one command');
      process.stdout.write(args[0] === undefined ? USAGE : commandHelp(findCommand(args[0])));
      return 0;
    }
    command = findCommand(name);
    // Second pass with the command's flags only: any other is a usage mistake.
    const flags = parse(argv, [...command.options, 'help'], command.name).values as Flags;
    if (flags.help) {
      process.stdout.write(commandHelp(command));
      return 0;
    }
    const c = command;
    const code = c.interruptible ? await interruptible((signal) => c.run(args, flags, signal)) : await c.run(args, flags);
    return code ?? 0;
  } catch (err) {
    return report(err, command, json);
  }
}

/** Writes the error on stderr (one JSON object with --json) and returns the exit code. */
function report(err: unknown, command: Command | undefined, json: boolean): number {
  const e = err as Error & { code?: string };
  const usage = err instanceof UsageError;
  const code = usage ? 'ERR_INVALID_ARGUMENT' : err instanceof Interrupted ? 'ERR_ABORTED' : e?.code ?? 'ERR_INTERNAL';
  const message = e?.message ?? String(err);
  if (json) process.stderr.write(`${JSON.stringify({ error: { code, message } })}\n`);
  else if (usage) process.stderr.write(`traceindex: ${message}\nRun 'traceindex ${command ? `${command.name} --help` : '--help'}' for usage.\n`);
  else if (err instanceof Interrupted) process.stderr.write(`traceindex: ${message}\n`);
  else process.stderr.write(`traceindex: ${e?.code ? `${e.code}: ` : ''}${message}\n`);
  return usage ? 2 : err instanceof Interrupted ? err.exitCode : 1;
}

if (require.main === module) {
  // A reader that goes away (`traceindex scan ... | head`) ends the command quietly: nothing more to say.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
