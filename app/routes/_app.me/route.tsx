import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { createInvitationRequestSchema, tokenNameSchema } from "../../../contract";
import { Button, Card, PageTitle } from "~/components/ui";
import { requireUser } from "~/lib/auth.server";
import { formIntent, invalidForm, parseForm } from "~/lib/form.server";
import { createInvitation, invitationStatus, listInvitations, signupUrl } from "~/models/invitation.server";
import { createApiToken, listApiTokens, revokeApiToken, toApiTokenDto } from "~/models/token.server";
import { toUserDto } from "~/models/user.server";
import { InvitationsSection } from "./invitations";
import { TokensSection } from "./tokens";

export const meta: MetaFunction = () => [{ title: "Me · Cactus" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const [me, tokens, invitations] = await Promise.all([
    toUserDto(user),
    listApiTokens(user.id),
    listInvitations(user.id),
  ]);
  return {
    me,
    tokens: tokens.map(toApiTokenDto),
    invitations: invitations.map((invitation) => ({ ...invitation, status: invitationStatus(invitation) })),
  };
}

const tokenForm = z.object({ name: tokenNameSchema });
const revokeForm = z.object({ tokenId: z.coerce.number().int().positive() });

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireUser(request);
  const formData = await request.formData();
  const intent = formIntent(formData);
  if (intent === "create-token") {
    const form = parseForm(tokenForm, formData);
    if (!form.ok) return invalidForm(form.fieldErrors);
    const { token, secret } = await createApiToken({ userId: user.id, name: form.data.name });
    return { ok: true as const, intent: "create-token" as const, name: token.name, secret };
  }
  if (intent === "revoke-token") {
    const form = parseForm(revokeForm, formData);
    if (!form.ok) return invalidForm(form.fieldErrors);
    await revokeApiToken({ id: form.data.tokenId, userId: user.id });
    return { ok: true as const, intent: "revoke-token" as const };
  }
  if (intent === "create-invitation") {
    const form = parseForm(createInvitationRequestSchema, formData);
    if (!form.ok) return invalidForm(form.fieldErrors);
    const { invitation, code } = await createInvitation({ fromUserId: user.id, email: form.data.email });
    return { ok: true as const, intent: "create-invitation" as const, email: invitation.email, url: signupUrl(request, code) };
  }
  return invalidForm({ intent: `Unknown action "${intent}"; reload the page and try again.` });
}

export default function MePage() {
  const { me, tokens, invitations } = useLoaderData<typeof loader>();
  return (
    <>
      <PageTitle>{me.username}</PageTitle>
      <Card>
        <dl className="grid grid-cols-2 gap-4">
          <div>
            <dt className="text-sm text-stone-500">Credits</dt>
            <dd className="text-2xl font-bold text-cactus-700" data-testid="credits">
              {me.credits.toLocaleString("en")}
            </dd>
          </div>
          <div>
            <dt className="text-sm text-stone-500">Role</dt>
            <dd className="text-lg font-semibold" data-testid="role">
              {me.role}
            </dd>
          </div>
        </dl>
      </Card>
      <InvitationsSection invitations={invitations} />
      <TokensSection tokens={tokens} />
      <Form method="post" action="/logout" className="mt-6 flex flex-col">
        <Button variant="secondary">Sign out</Button>
      </Form>
    </>
  );
}
