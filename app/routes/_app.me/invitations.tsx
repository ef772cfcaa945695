import { CopyField } from "~/components/copy-field";
import { Button, Card, Field } from "~/components/ui";
import type { InvitationDto, InvitationStatus } from "~/models/invitation.server";
import { formatCredits } from "../../../domain/work-units";
import { day } from "./dates";
import { useIntentForm } from "./intent-form";

type InvitationRow = InvitationDto & { status: InvitationStatus };

/** Invite people: the link carries a one-time code, shown once, to share any way you like. */
export function InvitationsSection({ invitations }: { invitations: InvitationRow[] }) {
  const { fetcher: create, form, failure, done: created } = useIntentForm("create-invitation");
  return (
    <Card className="mt-4">
      <h2 className="mb-1 font-semibold">Invitations</h2>
      <p className="mb-3 text-sm text-stone-600">Sign-up is by invitation. Each link works once.</p>
      <create.Form ref={form} method="post" className="flex flex-col gap-3">
        <input type="hidden" name="intent" value="create-invitation" />
        <Field
          label="Their email"
          name="email"
          type="email"
          inputMode="email"
          autoComplete="off"
          placeholder="friend@example.com"
          required
          error={failure?.fieldErrors.email}
        />
        <Button disabled={create.state !== "idle"}>Create invitation</Button>
      </create.Form>
      {created ? (
        <div role="status" className="mt-3 flex flex-col gap-2 rounded-lg border border-cactus-200 bg-cactus-50 p-3">
          <p className="text-sm text-cactus-900">
            Cactus sends no email: share this link with {created.email} yourself (a message, a chat). It is shown only now; the
            invitation is in the list below. It comes with {formatCredits(created.credits)} credits.
          </p>
          <CopyField label="Sign-up link" value={created.url} share={{ title: "Join our Cactus render farm" }} />
        </div>
      ) : null}
      {invitations.length > 0 ? (
        <ul className="mt-4 divide-y divide-stone-100" aria-label="Invitations">
          {invitations.map((invitation) => (
            <li key={invitation.id} className="py-2">
              <p className="font-medium wrap-anywhere">{invitation.email}</p>
              <p className="flex flex-wrap items-center gap-x-2 gap-y-1 text-xs text-stone-500">
                created {day(invitation.createdAt)} · {formatCredits(invitation.credits)} credits
                <StatusBadge invitation={invitation} />
              </p>
            </li>
          ))}
        </ul>
      ) : null}
    </Card>
  );
}

const badgeStyles: Record<InvitationStatus, string> = {
  pending: "bg-amber-100 text-amber-900",
  used: "bg-cactus-100 text-cactus-800",
  expired: "bg-stone-100 text-stone-500",
};

function StatusBadge({ invitation }: { invitation: InvitationRow }) {
  const text =
    invitation.status === "used"
      ? `joined as ${invitation.usedBy ?? "someone"}`
      : invitation.status === "expired"
        ? "expired"
        : `open until ${day(invitation.expiresAt)}`;
  return <span className={`shrink-0 rounded-full px-2 py-0.5 text-xs font-semibold ${badgeStyles[invitation.status]}`}>{text}</span>;
}
