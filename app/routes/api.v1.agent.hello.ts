import type { ActionFunctionArgs } from "@remix-run/node";
import { helloRequestSchema } from "../../contract";
import { apiJson, byMethod, parseJsonBody } from "~/lib/api.server";
import { requireWorker } from "~/lib/auth.server";
import { sayHello } from "~/models/agent.server";

/** An agent starting, or saying it is still there while it sleeps outside its schedule. */
export function action({ request }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const worker = await requireWorker(request);
      const hello = await parseJsonBody(request, helloRequestSchema);
      return apiJson(await sayHello(worker, hello));
    },
  });
}
