import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useLoaderData } from "@remix-run/react";
import { describeUserAgent } from "../../../domain/user-agent";
import { Button, Card, PageTitle } from "~/components/ui";
import { requireSession } from "~/lib/auth.server";
import { formIntent, formRefusal, invalidForm, parseForm, problemAsFormError } from "~/lib/form.server";
import { Problem } from "~/lib/problem.server";
import { clientIp } from "~/lib/rate-limit.server";
import { publicOrigin } from "~/lib/runtime.server";
import { changePasswordLimited } from "~/lib/sign-in.server";
import { createInvitation, invitationStatus, listInvitations, signupUrl, toInvitationDto } from "~/models/invitation.server";
import { createApiToken, listApiTokens, revokeApiToken, toApiTokenDto } from "~/models/token.server";
import { endOtherSessions, endSession, listLiveSessions } from "~/models/session.server";
import { toUserDto } from "~/models/user.server";
import { deletePushSubscription, pushSettings, pushSubscriptionSchema, savePushSubscription, setPushEvents } from "~/models/push.server";
import { isNotificationEvent } from "../../../domain/notifications";
import { InstallSection } from "./install";
import { NotificationsSection } from "./notifications";
import { creditsOf } from "~/models/ledger.server";
import { CreditsSection } from "./credits";
import { InvitationsSection } from "./invitations";
import { PasswordSection } from "./password";
import { SessionsSection } from "./sessions";
import { TokensSection } from "./tokens";
import { changePasswordRequestSchema, createInvitationRequestSchema, endSessionForm, revokeForm, tokenForm } from "~/lib/page-forms.server";

export const meta: MetaFunction = () => [{ title: "Me · Cactus" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const { user, session: current } = await requireSession(request);
  const [me, tokens, invitations, sessions, push, credits] = await Promise.all([
    toUserDto(user),
    listApiTokens(user.id),
    listInvitations(user.id),
    listLiveSessions(user.id),
    pushSettings(user.id),
    creditsOf(user.id),
  ]);
  return {
    me,
    push,
    credits,
    tokens: tokens.map(toApiTokenDto),
    invitations: invitations.map((invitation) => ({ ...invitation, status: invitationStatus(invitation) })),
    sessions: sessions.map((session) => ({
      id: session.id,
      device: describeUserAgent(session.userAgent),
      ip: session.ip,
      createdAt: session.createdAt.toISOString(),
      lastSeenAt: session.lastSeenAt.toISOString(),
      current: session.id === current.id,
    })),
  };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { user, session } = await requireSession(request);
  const formData = await request.formData();
  const intent = formIntent(formData);
  if (intent === "change-password") {
    const form = parseForm(changePasswordRequestSchema, formData);
    if (!form.ok) return invalidForm(form.fieldErrors);
    try {
      const { endedSessions } = await changePasswordLimited({
        ip: clientIp(request, context),
        user,
        current: form.data.currentPassword,
        next: form.data.newPassword,
        keepSessionId: session.id,
      });
      return { ok: true as const, intent: "change-password" as const, endedSessions };
    } catch (error) {
      return problemAsFormError(error, error instanceof Problem && error.code === "forbidden" ? "currentPassword" : undefined);
    }
  }
  if (intent === "end-session") {
    const form = parseForm(endSessionForm, formData);
    if (!form.ok) return invalidForm(form.fieldErrors);
    if (!(await endSession({ id: form.data.sessionId, userId: user.id }, "ended-elsewhere"))) {
      return formRefusal("That device is signed out already; reload the page.", 404);
    }
    return { ok: true as const, intent: "end-session" as const };
  }
  if (intent === "end-other-sessions") {
    const ended = await endOtherSessions({ userId: user.id, exceptId: session.id }, "ended-elsewhere");
    return { ok: true as const, intent: "end-other-sessions" as const, ended };
  }
  if (intent === "create-token") {
    const form = parseForm(tokenForm, formData);
    if (!form.ok) return invalidForm(form.fieldErrors);
    const { token, secret } = await createApiToken({ userId: user.id, name: form.data.name });
    return { ok: true as const, intent: "create-token" as const, name: token.name, secret };
  }
  if (intent === "revoke-token") {
    const form = parseForm(revokeForm, formData);
    if (!form.ok) return invalidForm(form.fieldErrors);
    if (!(await revokeApiToken({ id: form.data.tokenId, userId: user.id }))) return formRefusal("You have no such API token; reload the page.", 404);
    return { ok: true as const, intent: "revoke-token" as const };
  }
  if (intent === "create-invitation") {
    const form = parseForm(createInvitationRequestSchema, formData);
    if (!form.ok) return invalidForm(form.fieldErrors);
    let origin: string;
    try {
      origin = publicOrigin(request);
    } catch (error) {
      return problemAsFormError(error, "email");
    }
    const { invitation, code } = await createInvitation({ fromUserId: user.id, email: form.data.email });
    const { credits } = toInvitationDto(invitation);
    return { ok: true as const, intent: "create-invitation" as const, email: invitation.email, url: signupUrl(origin, code), credits };
  }
  if (intent === "push-subscribe") {
    const parsed = pushSubscriptionSchema.safeParse(parseJsonField(formData.get("subscription")));
    if (!parsed.success) return invalidForm({ push: `The browser's subscription was not usable: ${parsed.error.issues[0].message}` });
    await savePushSubscription({ userId: user.id, subscription: parsed.data, userAgent: request.headers.get("User-Agent") });
    return { ok: true as const, intent: "push-subscribe" as const };
  }
  if (intent === "push-unsubscribe") {
    await deletePushSubscription({ userId: user.id, endpoint: String(formData.get("endpoint") ?? "") });
    return { ok: true as const, intent: "push-unsubscribe" as const };
  }
  if (intent === "push-events") {
    await setPushEvents({ userId: user.id, on: formData.getAll("event").filter(isNotificationEvent) });
    return { ok: true as const, intent: "push-events" as const };
  }
  return invalidForm({ intent: `Unknown action "${intent}"; reload the page and try again.` });
}

function parseJsonField(value: FormDataEntryValue | null): unknown {
  try {
    return JSON.parse(String(value ?? ""));
  } catch {
    return null;
  }
}

export default function MePage() {
  const { me, tokens, invitations, sessions, push, credits } = useLoaderData<typeof loader>();
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
      <CreditsSection credits={credits} />
      <NotificationsSection push={push} />
      <InstallSection />
      <InvitationsSection invitations={invitations} />
      <TokensSection tokens={tokens} />
      <SessionsSection sessions={sessions} />
      <PasswordSection />
      <Form method="post" action="/logout" className="mt-6 flex flex-col">
        <Button variant="secondary">Sign out</Button>
      </Form>
    </>
  );
}
