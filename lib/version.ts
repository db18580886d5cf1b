/** The package's version. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The version in the package's package.json (read once, when the module loads). */
export const version: string = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
