/** Thrown by a handler for an event that no retry can fix: it goes to the dead letters at once. */
export class PermanentEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentEventError';
  }
}
