#!/usr/bin/env node
/**
 * The traceindex command line: `traceindex COMMAND ...`, one command per file in ./commands (the table in
 * ./commands/index.ts). Every query command prints a human summary, or one JSON object with --json.
 * Errors go to stderr with their code; the exit code is 1 on error, 2 on a usage mistake (an unknown command
 * or flag, a flag the command does not take, a malformed or out-of-range value, a missing argument).
 */
import { parseArgs } from 'node:util';
import { Command, FLAGS, FlagName, Flags, interruptible, UsageError } from './command';
import { COMMANDS } from './commands';
import { SERVE_USAGE } from '../server/usage';

const HEADER = 'traceindex — exact provenance queries over suffix-array indexes';

const FOOTER = `Query commands also read an infini-gram index in place: DIR [--format infini-gram] [--token-width 1|2|4]
[--vocab-size V] [--tokenizer bytes] (format detected and width inferred when omitted).
Inputs: .txt (one document per file), .jsonl, .jsonl.gz, .jsonl.zst, directories, globs, - for stdin (JSONL).
Tokenizers: bytes (default), cl100k_base, o200k_base, llama-2, llama-3, a path to a tokenizer.json, or
pretokenized:VOCAB with --tokens-field. Query commands take --tokenizer PATH for a local copy of the index's.
traceindex COMMAND --help shows one command's usage.
`;

function commandUsage(c: Command): string {
  return `  traceindex ${c.name} ${c.usage}\n      ${c.summary}\n`;
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

export async function main(argv: string[]): Promise<number> {
  // `serve` parses its own flags (lib/server/serve.ts) and resolves once SIGTERM/SIGINT has drained it; the
  // server's packages load only for it.
  if (argv[0] === 'serve') return (await import('../server/serve')).runServe(argv);
  let command: Command | undefined;
  try {
    // First pass with every flag: find the command (flags may come before it).
    const all = parse(argv, Object.keys(FLAGS) as FlagName[]);
    const [name, ...args] = all.positionals;
    if (name === undefined) {
      process.stdout.write(USAGE);
      return all.values.help ? 0 : 2;
    }
    command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command ${name}`);
    // Second pass with the command's flags only: any other is a usage mistake.
    const flags = parse(argv, [...command.options, 'help'], command.name).values as Flags;
    if (flags.help) {
      process.stdout.write(`Usage:\n${commandUsage(command)}\nFlags: ${command.options.map((f) => `--${f}`).join(' ')} --help\n`);
      return 0;
    }
    const c = command;
    if (c.interruptible) await interruptible((signal) => c.run(args, flags, signal));
    else await c.run(args, flags);
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string };
    if (err instanceof UsageError) {
      process.stderr.write(`traceindex: ${e.message}\n\n${command ? `Usage:\n${commandUsage(command)}` : USAGE}`);
      return 2;
    }
    process.stderr.write(`traceindex: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
