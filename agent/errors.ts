// What can go wrong between the agent and the server, as the loop needs to tell apart.

/** The server answered with an error that retrying will not change. */
export class ServerRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ServerRefused";
  }
}
/** 409: the lease is stale or not this worker's; drop the work. */
export class StaleLease extends ServerRefused {
  name = "StaleLease";
}
/** 422 on a frame: the server rejected the image (a failure of this worker for this task). */
export class FrameRejected extends ServerRefused {
  name = "FrameRejected";
}
/** 401: the token is unknown; nothing but a new token helps. */
export class WorkerUnauthorized extends ServerRefused {
  name = "WorkerUnauthorized";
}
/** 403: the worker is disabled; the agent sleeps and asks again later. */
export class WorkerDisabled extends ServerRefused {
  name = "WorkerDisabled";
}
/** Retries ran out: the server stayed down or unreachable. */
export class ServerUnreachable extends Error {
  name = "ServerUnreachable";
}
/** The archive's bytes did not hash to what the task said: the download is deleted. */
export class ArchiveCorrupt extends Error {
  name = "ArchiveCorrupt";
}
