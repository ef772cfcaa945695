import type { WorkerDto } from "../../contract";
import type { ApiClient } from "./client";
import { resolveByIdOrName } from "./resolve";

/** A worker named on the command line by id or by name (see resolveByIdOrName). */
export async function resolveWorker(client: ApiClient, ref: string | number): Promise<WorkerDto> {
  const { workers } = await client.call("listWorkers", {});
  return resolveByIdOrName(workers, ref, "worker", "cactus worker list");
}
