/** The command table, in the order the usage lists them. */
import type { Command } from '../command';
import { build } from './build';
import { calibrate } from './calibrate';
import { combine } from './combine';
import { contamination } from './contamination';
import { count } from './count';
import { demo } from './demo';
import { document } from './document';
import { exportSurprisal } from './export-surprisal';
import { info } from './info';
import { locate } from './locate';
import { longest } from './longest';
import { next } from './next';
import { scan } from './scan';
import { shield } from './shield';
import { trace } from './trace';
import { upgrade } from './upgrade';
import { verify } from './verify';

export const COMMANDS: readonly Command[] = [
  build, combine, upgrade, info, count, locate, longest, next, document, verify, trace, shield, scan, contamination, calibrate,
  exportSurprisal, demo,
];
