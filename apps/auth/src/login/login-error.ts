/** A login that cannot go on: the page shows `title` and `message`, the trace keeps `code`. */
export class LoginError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    message: string,
    readonly traceId?: string,
  ) {
    super(message);
  }
}
