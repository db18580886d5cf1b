/** The ESM entry exposes the same API as the CommonJS one (imported by a child process). */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as cjs from '../lib/index';
import * as O from './helpers/oracle';

test('import from lib/esm.mjs gives every named export of the CommonJS entry, working', (t) => {
  const esm = path.join(O.REPO, 'lib', 'esm.mjs');
  const script = `
    import * as m from ${JSON.stringify(esm)};
    const out = ${JSON.stringify(path.join(O.tmpDir('esm'), 'idx'))};
    await m.buildIndex({ inputs: [{ text: 'abcabc' }, { text: 'bca' }], out });
    const idx = await m.openIndex(out);
    console.log(JSON.stringify({ names: Object.keys(m).filter((k) => k !== 'default').sort(), count: await idx.count('bc') }));
    idx.close();`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  const functions = Object.keys(cjs).filter((k) => typeof (cjs as Record<string, unknown>)[k] !== 'undefined').sort();
  t.deepEqual(got.names, functions);
  t.is(got.count, 3);
});
