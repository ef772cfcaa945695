import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { createInvitationRequestSchema } from "../../contract";
import { apiJson, byMethod, handleApi, parseJsonBody } from "~/lib/api.server";
import { requireApiUser } from "~/lib/auth.server";
import { publicOrigin } from "~/lib/runtime.server";
import { createInvitation, listInvitations, signupUrl, toInvitationDto } from "~/models/invitation.server";

export function loader({ request }: LoaderFunctionArgs) {
  return handleApi(async () => {
    const { user } = await requireApiUser(request);
    return apiJson({ invitations: await listInvitations(user.id) });
  });
}

export function action({ request }: ActionFunctionArgs) {
  return byMethod(request, {
    POST: async () => {
      const { user } = await requireApiUser(request);
      const input = await parseJsonBody(request, createInvitationRequestSchema);
      // Before anything is stored: a link to nowhere is no invitation.
      const origin = publicOrigin(request);
      const { invitation, code } = await createInvitation({ fromUserId: user.id, email: input.email });
      return apiJson({ ...toInvitationDto(invitation), code, url: signupUrl(origin, code) }, 201);
    },
  });
}
