/**
 * The generation-time match state (native/core/match_state.hpp) and Prov-Decode's continuation scoring over it.
 */
import { TraceIndexError } from '../errors';
import { addon, NativeMatchState } from '../native';
import type { IndexCore } from '../query/core';
import { jsonArray } from '../query/json-arrays';
import type { CallOptions } from '../query/types';
import { finiteNumber, invalidArgument, MAX_UINT32, nonNegativeInteger, plainObject } from '../validate';

/** The longest suffix of what was pushed that occurs in the corpus. */
export interface SuffixMatch {
  /** Its length in tokens (0 when not even the last token occurs). */
  length: number;
  /** Its occurrences in the corpus. */
  count: number;
  /** Its BCI (natural log). */
  bci: number;
}

/** Options of matchState. */
export interface MatchStateOptions extends CallOptions {
  /** Longest suffix tracked, in tokens (≤ 2^32 − 1); 0 (default) for no limit. */
  window?: number;
}

let newMatchState: (native: NativeMatchState, core: IndexCore) => MatchState;
let nativeOf: (state: MatchState) => NativeMatchState;

/**
 * Generation-time state: push the tokens a model emits; longest() is the longest suffix that occurs in the
 * corpus, with its count and BCI (natural log), at amortised O(log n) per token. fork() for beams. A state
 * keeps working after its index is closed (it holds the mappings it needs).
 */
export class MatchState {
  readonly #native: NativeMatchState;
  readonly #core: IndexCore;

  /** Use index.matchState(). */
  private constructor(native: NativeMatchState, core: IndexCore) {
    this.#native = native;
    this.#core = core;
  }

  static {
    newMatchState = (native, core) => new MatchState(native, core);
    nativeOf = (state) => state.#native;
  }

  /** Appends a token id (or several: ids, or a Query's ids) and returns longest(). */
  push(token: number | ArrayLike<number>): SuffixMatch {
    if (typeof token === 'number') return this.#native.push(token);
    return this.#native.push(this.#core.tokenize(token));
  }
  /** The longest suffix of what was pushed that occurs in the corpus. */
  longest(): SuffixMatch {
    return this.#native.longest();
  }
  /** What longest() would be after push(token), leaving the state as it is. */
  peek(token: number): SuffixMatch {
    return this.#native.peek(token);
  }
  /** An independent copy (for a new beam). */
  fork(): MatchState {
    return new MatchState(this.#native.fork(), this.#core);
  }
  /** Tokens pushed so far. */
  get pushed(): number {
    return this.#native.pushed;
  }
}

/** A new, empty match state over the index of `core`. */
export function matchState(core: IndexCore, options: MatchStateOptions = {}): MatchState {
  const o = plainObject('options', options);
  const window = nonNegativeInteger('window', o.window, { default: 0, max: MAX_UINT32 });
  return newMatchState(core.begin(o).runSync((n) => n.matchState(window)), core);
}

/** Options of scoreContinuations. */
export interface ContinuationOptions {
  /** Veto a candidate whose completed span scores above tau; default Infinity (no veto). */
  tau?: number;
  /** Veto only spans occurring at most this often; default unlimited. */
  maxCount?: number;
  /** Veto only spans of at least this many tokens; default 1. */
  minLength?: number;
  /** Log base of the risks (and of tau); default e. */
  logBase?: number;
}

/** Per beam × candidate (row-major) results of scoreContinuations. */
export interface ContinuationScores {
  /** Per beam × candidate (row-major): BCI of the longest corpus-matching suffix the candidate would complete. */
  risk: Float32Array;
  /** 1 where the candidate is vetoed. */
  veto: Uint8Array;
  /** Length in tokens of that suffix. */
  length: Uint32Array;
  /** Its occurrences in the corpus. */
  count: Float64Array;
}

/** Prov-Decode: one call per decoding step for all beams; candidates are B rows of k ids (or a flat array). */
export function scoreContinuations(states: MatchState[], candidates: ArrayLike<number>[] | Uint32Array, options: ContinuationOptions = {}, k?: number): ContinuationScores {
  if (!Array.isArray(states)) throw invalidArgument('states', 'an array of MatchStates', states);
  const natives = states.map((s, i) => {
    if (!(s instanceof MatchState)) throw invalidArgument(`states[${i}]`, 'a MatchState', s);
    return nativeOf(s);
  });
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
      // Checked here: a Uint32Array would truncate 116.5 to 116 and NaN to 0 (the core checks the vocabulary).
      for (let j = 0; j < width; j++) {
        const v = row[j];
        if (!Number.isInteger(v) || v < 0 || v > MAX_UINT32)
          throw new TraceIndexError('ERR_TOKEN_RANGE', `candidate ${String(v)} of beam ${b} (position ${j}) is not a token id`);
        flat[b * width + j] = v;
      }
    });
  }
  if (!Number.isInteger(width)) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'candidates must hold states.length × k ids');
  try {
    const r = addon.scoreContinuations(natives, flat, width, plainObject('options', options));
    return { risk: jsonArray(r.risk), veto: jsonArray(r.veto), length: jsonArray(r.length), count: jsonArray(r.count) };
  } catch (err) {
    throw new TraceIndexError((err as { code?: string }).code as never ?? 'ERR_INVALID_ARGUMENT', (err as Error).message);
  }
}

/**
 * Applies Prov-Decode's penalty to candidate logits in place: logit −= gamma · risk (gamma default 1), or
 * −Infinity where vetoed (unless vetoToMinusInfinity, default true, is false). `logits` is laid out like the
 * candidates (ERR_INVALID_ARGUMENT otherwise).
 */
export function penalizeLogits(logits: Float32Array | Float64Array, scores: ContinuationScores, options: { gamma?: number; vetoToMinusInfinity?: boolean } = {}): void {
  const gamma = finiteNumber('gamma', options.gamma, 1);
  const hard = options.vetoToMinusInfinity ?? true;
  if (logits.length !== scores.risk.length) throw new TraceIndexError('ERR_INVALID_ARGUMENT', 'logits must align with the candidates');
  for (let i = 0; i < logits.length; i++) logits[i] = hard && scores.veto[i] ? -Infinity : logits[i] - gamma * scores.risk[i];
}
