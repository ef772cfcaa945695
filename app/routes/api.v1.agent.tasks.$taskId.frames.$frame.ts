import type { ActionFunctionArgs } from "@remix-run/node";
import { frameUploadQuerySchema } from "../../contract";
import { apiError, apiJson, byMethod, idParam, parseWith } from "~/lib/api.server";
import { handleUpload } from "~/lib/archive-upload.server";
import { requireWorker } from "~/lib/auth.server";
import { leaseOf } from "~/models/agent.server";
import { receiveFrameUpload } from "~/models/result.server";

/** One rendered frame, the image as the raw body: 201 accepted, 200 already accepted, 422 refused. */
export function action({ request, params }: ActionFunctionArgs) {
  return byMethod(request, {
    PUT: () =>
      handleUpload(request, async () => {
        const worker = await requireWorker(request);
        const taskId = idParam(params, "taskId", "task");
        const frame = frameParam(params.frame);
        const query = parseWith(frameUploadQuerySchema, Object.fromEntries(new URL(request.url).searchParams));
        const lease = leaseOf(worker, taskId, query.leaseToken);
        const result = await receiveFrameUpload(worker, { lease, frame, renderTimeMs: query.renderTimeMs }, request);
        return apiJson(result, result.duplicate ? 200 : 201);
      }),
  });
}

function frameParam(raw: string | undefined): number {
  if (!/^-?\d{1,9}$/.test(raw ?? "")) apiError("bad_request", `"${raw}" is not a frame number; upload to …/frames/<frame>.`);
  return Number(raw);
}
