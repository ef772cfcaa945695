import type { ErrorCode } from "../../contract";

/**
 * A refusal that model and lib code raises without knowing about HTTP: the API answers
 * it in its error shape (see handleApi), a page shows its message next to the form.
 */
export class Problem extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "Problem";
  }
}
