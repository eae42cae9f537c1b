// Socket errors carry a Linux errno and its name, as OSError does in Python.
export const errno = Object.freeze({
  EPERM: 1,
  ENXIO: 6,
  EBADF: 9,
  EAGAIN: 11,
  ENODEV: 19,
  EINVAL: 22,
  EMFILE: 24,
  EPIPE: 32,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  EISCONN: 106,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
  /** getaddrinfo's "name or service not known" */
  EAI_NONAME: -2,
} as const);

export type ErrorCode = keyof typeof errno;

export class SocketError extends Error {
  readonly errno: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(`[Errno ${errno[code]}] ${code}: ${message}`);
    this.errno = errno[code];
  }
}

/** A timed-out operation: ETIMEDOUT, as Python's socket.timeout. */
export class TimeoutError extends SocketError {
  constructor(what: string, ms: number) {
    super("ETIMEDOUT", `${what} timed out after ${ms} ms`);
  }
}

/** A value for an error message: a number or a string as it is, anything else by its type (its String() may throw). */
export function shown(value: unknown): string {
  return typeof value === "number" || typeof value === "string" ? String(value) : typeof value;
}

/** Reads a platform error (the simulator's carry errno and code) as a SocketError. */
export function fromPlatform(e: unknown, fallback: ErrorCode, what: string): SocketError {
  if (e instanceof SocketError) return e;
  const { code, message } = e as { code?: string; message?: string };
  const known = code !== undefined && code in errno ? (code as ErrorCode) : fallback;
  return new SocketError(known, `${what}: ${message ?? String(e)}`);
}
