/**
 * The npm packages the named tokenizers read their vocabularies from (js-tiktoken, llama3-tokenizer-js,
 * llama-tokenizer-js, @huggingface/tokenizers) are optionalDependencies, loaded on first use: an install
 * without them (`npm install --omit=optional`) indexes bytes and token ids, and asking for a tokenizer whose
 * package is missing is ERR_MISSING_PACKAGE, naming the package to install.
 */
import { TraceIndexError } from '../errors';

/** The package of a module id: '@scope/name' or 'name'. */
export function packageOf(id: string): string {
  const parts = id.split('/');
  return id.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** ERR_MISSING_PACKAGE when `err` says the package of `id` is not installed; otherwise ERR_INVALID_ARGUMENT. */
export function packageError(id: string, err: unknown, what = 'this tokenizer'): TraceIndexError {
  const pkg = packageOf(id);
  const code = (err as { code?: string } | null)?.code;
  const message = (err as Error | null)?.message ?? String(err);
  if (code !== undefined && code.endsWith('MODULE_NOT_FOUND') && message.includes(pkg))  // require's and import()'s codes
    return new TraceIndexError('ERR_MISSING_PACKAGE',
      `${what} needs the npm package ${pkg}, which is not installed (an optional dependency of traceindex): npm install ${pkg}`, { cause: err });
  return new TraceIndexError('ERR_INVALID_ARGUMENT', `cannot load ${id} (${message}): reinstall traceindex's dependencies`, { cause: err });
}

/** require(id), or packageError. */
export function requirePackage<T>(id: string, what?: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(id) as T;
  } catch (err) {
    throw packageError(id, err, what);
  }
}

// ES-module-only packages: TypeScript's CommonJS output would turn import() into require().
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

/** import(id), or packageError. */
export async function importPackage<T>(id: string, what?: string): Promise<T> {
  try {
    return (await importModule(id)) as T;
  } catch (err) {
    throw packageError(id, err, what);
  }
}

/** require.resolve(id), or packageError. */
export function resolvePackage(id: string, what?: string): string {
  try {
    return require.resolve(id);
  } catch (err) {
    throw packageError(id, err, what);
  }
}
