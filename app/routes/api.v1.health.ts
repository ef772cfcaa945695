import { apiErrorResponse, apiJson, DATABASE_RETRY_AFTER_SECONDS } from "~/lib/api.server";
import { checkDatabase } from "~/lib/db-watch.server";

// Within a second, whatever the database does: a load balancer or `cactus-agent doctor`
// asks this to know whether to send requests here.
const DATABASE_CHECK_MS = 800;

export async function loader() {
  if (await checkDatabase(DATABASE_CHECK_MS)) return apiJson({ ok: true });
  return apiErrorResponse("unavailable", `The server is up, but its database is not answering; requests get 503 until it does. Try again in ${DATABASE_RETRY_AFTER_SECONDS} seconds.`, {
    "Retry-After": String(DATABASE_RETRY_AFTER_SECONDS),
  });
}
