/** A refusal of the admin API: the HTTP status and the message the caller reads. */
export class AdminError extends Error {
  readonly status: number

  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}
