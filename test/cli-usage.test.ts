/**
 * The CLI's command table: the usage lists every command, `COMMAND --help` prints that command's usage, a
 * flag the command does not take and a malformed or out-of-range flag value are usage mistakes (exit 2,
 * nothing on stdout), with the same bounds as the API.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildIndex } from '../lib/index';
import { COMMANDS } from '../lib/cli/commands';
import * as O from './helpers/oracle';

const scratch = O.tmpDir('cli-usage');
test.after.always(() => fs.rmSync(scratch, { recursive: true, force: true }));

function cli(...args: string[]) {
  const res = spawnSync(process.execPath, [O.CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

const DIR = path.join(scratch, 'idx');
let built: Promise<void> | undefined;
const index = () => (built ??= buildIndex({ inputs: [{ text: 'alpha beta gamma alpha beta' }, { text: 'beta gamma delta' }], out: DIR }).then(() => undefined));

test('the usage lists every command of the table, and COMMAND --help prints that command alone', (t) => {
  const usage = cli('--help');
  t.is(usage.status, 0);
  t.true(COMMANDS.length >= 16);
  for (const c of COMMANDS) {
    t.true(usage.stdout.includes(`  traceindex ${c.name} ${c.usage}\n`), `${c.name} in the usage`);
    const help = cli(c.name, '--help');
    t.is(help.status, 0, c.name);
    t.true(help.stdout.startsWith(`Usage:\n  traceindex ${c.name} ${c.usage}\n`), help.stdout);
    for (const f of c.options) t.true(help.stdout.includes(`--${f}`), `${c.name} --help names --${f}`);
    t.is(help.stdout.split('traceindex ').length - 1, 1, `${c.name} --help shows no other command`);
  }
});

test('a flag the command does not take is a usage mistake (exit 2), naming the flag', async (t) => {
  await index();
  for (const [args, flag] of [[['count', DIR, 'beta', '--limit', '3'], '--limit'], [['info', DIR, '--tau', '1'], '--tau'],
    [['build', 'x.jsonl', '--out', path.join(scratch, 'o'), '--seed', '1'], '--seed'], [['calibrate', DIR, '--window', '3'], '--window']] as const) {
    const r = cli(...args);
    t.is(r.status, 2, args.join(' '));
    t.is(r.stdout, '');
    t.true(r.stderr.includes(`${args[0]} does not take ${flag}`), r.stderr);
    t.true(r.stderr.includes(`traceindex ${args[0]} `), 'the command usage follows');
  }
  t.false(fs.existsSync(path.join(scratch, 'o')));
});

test('malformed or out-of-range flag values exit 2 with the API bounds; the largest valid ones run', async (t) => {
  await index();
  const bad: string[][] = [
    ['locate', DIR, 'beta', '--limit', '10001'],
    ['locate', DIR, 'beta', '--limit', 'ten'],
    ['locate', DIR, 'beta', '--context', '4294967296'],
    ['trace', DIR, 'beta', '--seed', '4294967296'],
    ['trace', DIR, 'beta', '--max-documents', '-1'],
    ['trace', DIR, 'beta', '--log-base', 'e'],
    ['shield', DIR, 'beta', '--tau', '1', '--window', '0'],
    ['shield', DIR, 'beta', '--tau', 'high'],
    ['calibrate', DIR, '--samples', '1000001'],
    ['calibrate', DIR, '--samples', '0'],
    ['calibrate', DIR, '--lengths', '8,x'],
    ['calibrate', DIR, '--lengths', '8,0'],
    ['next', DIR, 'beta', '--top', '1.5'],
    ['count', DIR, 'beta', '--token-width', '3'],
    ['count', DIR, 'beta', '--format', 'parquet'],
    ['build', 'x.jsonl', '--out', path.join(scratch, 'o2'), '--threads', '0'],
    ['build', 'x.jsonl', '--out', path.join(scratch, 'o2'), '--memory', 'lots'],
    ['build', 'x.jsonl', '--out', path.join(scratch, 'o2'), '--tokenizer', 'cl100k_base', '--tokenizer-workers', String(2 ** 32)],
    ['build', 'x.jsonl', '--out', path.join(scratch, 'o2'), '--tokenizer', 'cl100k_base', '--tokenizer-workers', String(Math.max(4, 2 * os.cpus().length) + 1)],
    ['build', 'x.jsonl', '--out', path.join(scratch, 'o2'), '--shard', '5/99999999999999999999'],
    ['scan', DIR],
  ];
  for (const args of bad) {
    const r = cli(...args);
    t.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    t.is(r.stdout, '', args.join(' '));
  }
  t.false(fs.existsSync(path.join(scratch, 'o2')));
  const ok = cli('locate', DIR, 'beta', '--limit', '10000', '--context', '0', '--json');
  t.is(ok.status, 0, ok.stderr);
  t.is(JSON.parse(ok.stdout).occurrences.length, 3);
  t.is(cli('calibrate', DIR, '--samples', '5', '--lengths', '3', '--seed', '4294967295').status, 0);
});
