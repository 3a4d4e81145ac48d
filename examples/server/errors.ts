// An error that carries the HTTP status to answer with, so that request handling can throw
// wherever it finds a problem and one place turns it into a response.
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
  }
}
