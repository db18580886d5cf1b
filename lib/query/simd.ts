/** Which token-matching kernel the search uses (chosen at load for the CPU; TRACEINDEX_SIMD overrides). */
import { TraceIndexError } from '../errors';
import { addon } from '../native';

export const simd = {
  /** Kernels this CPU can run, best first: 'avx2', 'sse4.2', 'scalar'. */
  available(): string[] {
    return addon.simdKernels();
  },
  /** The kernel searches use now. */
  active(): string {
    return addon.selectSimd() as string;
  },
  /** Makes `name` the active kernel, process-wide (for benchmarks and tests); ERR_INVALID_ARGUMENT if unavailable. */
  select(name: string): void {
    if (addon.selectSimd(name) === false) throw new TraceIndexError('ERR_INVALID_ARGUMENT', `SIMD kernel ${name} is not available here`);
  },
};
