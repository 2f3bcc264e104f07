/** Errors thrown in a worker thread, rebuilt in the main thread with the same class (PteplayError or Error), message and exit code. */
import { PteplayError } from '../errors.js';

export interface SerializedError {
  message: string;
  exitCode?: number;
  stack?: string;
}

export function serializeError(err: unknown): SerializedError {
  const e = err instanceof Error ? err : new Error(String(err));
  return { message: e.message, exitCode: e instanceof PteplayError ? e.exitCode : undefined, stack: e.stack };
}

export function deserializeError(s: SerializedError): Error {
  const e = s.exitCode === undefined ? new Error(s.message) : new PteplayError(s.message, s.exitCode);
  // The worker's stack says where it failed; the main thread's would only show the message handler.
  if (s.stack) e.stack = s.stack;
  return e;
}
