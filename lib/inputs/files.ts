/**
 * File-system reads and errors shared by the readers of index and tokenizer files: only regular files are
 * read, and only up to a size cap (a FIFO or a link to /dev/zero is refused, never waited on or read until
 * memory runs out); errno failures become ERR_IO naming the path.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { TraceIndexError } from '../errors';

/**
 * The bytes of `file` if it is a regular file of at most `maxBytes` bytes; else `refuse(why)` is thrown.
 * Failures to open or read throw the Node error (callers map ENOENT to their own "not found").
 */
export function readRegularFile(file: string, maxBytes: number, refuse: (why: string) => Error): Buffer {
  const fd = fs.openSync(file, OPEN_FLAGS);
  try {
    const buf = Buffer.allocUnsafe(checkedSize(file, fs.fstatSync(fd), maxBytes, refuse) + 1);
    let n = 0;
    for (let got; n < buf.length && (got = fs.readSync(fd, buf, n, buf.length - n, n)) > 0; ) n += got;
    return checkedRead(buf, n, maxBytes, refuse);
  } finally {
    fs.closeSync(fd);
  }
}

/** readRegularFile, reading off the JS thread. */
export async function readRegularFileAsync(file: string, maxBytes: number, refuse: (why: string) => Error): Promise<Buffer> {
  const handle = await fsp.open(file, OPEN_FLAGS);
  try {
    const buf = Buffer.allocUnsafe(checkedSize(file, await handle.stat(), maxBytes, refuse) + 1);
    let n = 0;
    for (let got; n < buf.length && (got = (await handle.read(buf, n, buf.length - n, n)).bytesRead) > 0; ) n += got;
    return checkedRead(buf, n, maxBytes, refuse);
  } finally {
    await handle.close();
  }
}

// O_NONBLOCK: opening a FIFO for reading must not wait for a writer (the type check then refuses it).
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

function checkedSize(file: string, st: fs.Stats, maxBytes: number, refuse: (why: string) => Error): number {
  // A directory fails as fs.readFile's read would (an I/O error, not a refusal).
  if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${file}'`), { code: 'EISDIR', syscall: 'read', path: file });
  if (!st.isFile()) throw refuse('not a regular file');
  if (st.size > maxBytes) throw refuse(`${st.size} bytes, more than the ${maxBytes} allowed`);
  return st.size; // one byte more is read, in case the file grew since
}

function checkedRead(buf: Buffer, n: number, maxBytes: number, refuse: (why: string) => Error): Buffer {
  if (n > maxBytes) throw refuse(`more than the ${maxBytes} bytes allowed`);
  return buf.subarray(0, n);
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a path component is not a directory',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EISDIR: 'is a directory',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
};

/** Whether `err` is a Node file-system error (it carries an errno code such as ENOENT). */
export function isErrnoError(err: unknown): err is NodeJS.ErrnoException {
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) && !code.startsWith('ERR_');
}

/** ERR_IO for a Node file-system error: what failed, on which path, and why in words ("permission denied"). */
export function ioError(err: NodeJS.ErrnoException, what?: string): TraceIndexError {
  const code = err.code ?? '';
  const where = err.path;
  const action = what ?? `${err.syscall ? `${err.syscall} failed` : 'I/O error'}${where ? ' on' : ''}`;
  const reason = REASONS[code] ?? err.message;
  return new TraceIndexError('ERR_IO', `${action}${where ? ` ${where}` : ''}: ${reason}${REASONS[code] ? ` (${code})` : ''}`, { cause: err });
}

/** Whether `err` means the device (or the user's quota) is full: a Node error or the native writer's ERR_IO. */
export function isDiskFull(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT') return true;
  if (e?.cause !== undefined && e.cause !== err && isDiskFull(e.cause)) return true;
  return typeof e?.message === 'string' && /No space left on device|Disk quota exceeded/.test(e.message);
}
