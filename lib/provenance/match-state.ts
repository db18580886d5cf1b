/**
 * The generation-time match state (native/core/match_state.hpp) and Prov-Decode's continuation scoring over it.
 */
import { TraceIndexError } from '../errors';
import { addon, NativeMatchState, NativeSuffixMatch } from '../native';
import type { Index } from '../query/open-index';

/**
 * Generation-time state: push the tokens a model emits; longest() is the longest suffix that occurs in the
 * corpus, with its count and BCI (natural log), at amortised O(log n) per token. fork() for beams.
 */
export class MatchState {
  /** @internal */
  constructor(readonly native: NativeMatchState, private readonly index: Index) {}

  push(token: number | ArrayLike<number>): NativeSuffixMatch {
    if (typeof token === 'number') return this.native.push(token);
    return this.native.push(this.index.tokenize(token));
  }
  longest(): NativeSuffixMatch {
    return this.native.longest();
  }
  /** What longest() would be after push(token), leaving the state as it is. */
  peek(token: number): NativeSuffixMatch {
    return this.native.peek(token);
  }
  fork(): MatchState {
    return new MatchState(this.native.fork(), this.index);
  }
  get pushed(): number {
    return this.native.pushed;
  }
}

export interface ContinuationOptions {
  /** Veto a candidate whose completed span scores above tau. */
  tau?: number;
  maxCount?: number;
  minLength?: number;
  logBase?: number;
}

export interface ContinuationScores {
  /** Per beam × candidate (row-major): BCI of the longest corpus-matching suffix the candidate would complete. */
  risk: Float32Array;
  /** 1 where the candidate is vetoed. */
  veto: Uint8Array;
  length: Uint32Array;
  count: Float64Array;
}

/** Prov-Decode: one call per decoding step for all beams; candidates are B rows of k ids (or a flat array). */
export function scoreContinuations(states: MatchState[], candidates: ArrayLike<number>[] | Uint32Array, options: ContinuationOptions = {}, k?: number): ContinuationScores {
  let flat: Uint32Array;
  let width: number;
  if (candidates instanceof Uint32Array) {
    width = k ?? (states.length ? candidates.length / states.length : 0);
    flat = candidates;
  } else {
    if (candidates.length !== states.length) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'one row of candidates per state');
    width = candidates[0]?.length ?? 0;
    flat = new Uint32Array(states.length * width);
    candidates.forEach((row, b) => {
      if (row.length !== width) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'every beam needs the same number of candidates');
      flat.set(row, b * width);
    });
  }
  if (!Number.isInteger(width)) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'candidates must hold states.length × k ids');
  try {
    return addon.scoreContinuations(states.map((s) => s.native), flat, width, options);
  } catch (err) {
    throw new TraceIndexError((err as { code?: string }).code as never ?? 'ERR_INVALID_ARGUMENT', (err as Error).message);
  }
}

/**
 * Applies Prov-Decode's penalty to candidate logits in place: logit −= gamma · risk, or −Infinity where
 * vetoed (unless vetoToMinusInfinity is false). `logits` is laid out like the candidates.
 */
export function penalizeLogits(logits: Float32Array | Float64Array, scores: ContinuationScores, options: { gamma?: number; vetoToMinusInfinity?: boolean } = {}): void {
  const gamma = options.gamma ?? 1;
  const hard = options.vetoToMinusInfinity ?? true;
  if (logits.length !== scores.risk.length) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'logits must align with the candidates');
  for (let i = 0; i < logits.length; i++) logits[i] = hard && scores.veto[i] ? -Infinity : logits[i] - gamma * scores.risk[i];
}
