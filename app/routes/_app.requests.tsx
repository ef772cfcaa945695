import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import type { RenderRequestCardDto } from "../../contract";
import { formatCredits, formatWu } from "../../domain/work-units";
import { Button, Card, PageTitle } from "~/components/ui";
import { requireUser } from "~/lib/auth.server";
import { formIntent, invalidForm, parseForm, problemAsFormError } from "~/lib/form.server";
import { decideRequest, deleteRequestRule, getRequestRule, listRequests, setRequestRule } from "~/models/request.server";

// Requests (docs/design.md §5, §6): other people's renders asking for my workers — the
// scene's facts, the quote and the price — with Accept / Decline, and my standing rule.

export const meta: MetaFunction = () => [{ title: "Requests · Cactus" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await requireUser(request);
  const [requests, rule] = await Promise.all([listRequests(user.id), getRequestRule(user.id)]);
  return { requests, rule };
}

const decideForm = z.object({ renderId: z.coerce.number().int().positive() });
const ruleForm = z.object({ minPrice: z.coerce.number().min(0, "A price is 0 or more credits per WU.").max(1_000_000) });

export async function action({ request }: ActionFunctionArgs) {
  const user = await requireUser(request);
  const formData = await request.formData();
  const intent = formIntent(formData);
  try {
    if (intent === "accept" || intent === "decline") {
      const form = parseForm(decideForm, formData);
      if (!form.ok) return invalidForm(form.fieldErrors);
      await decideRequest({ userId: user.id, renderId: form.data.renderId, decision: intent === "accept" ? "accepted" : "declined" });
      return { ok: true as const };
    }
    if (intent === "rule") {
      const form = parseForm(ruleForm, formData);
      if (!form.ok) return invalidForm(form.fieldErrors);
      await setRequestRule(user.id, { minPrice: form.data.minPrice, from: null });
      return { ok: true as const };
    }
    if (intent === "drop-rule") {
      await deleteRequestRule(user.id);
      return { ok: true as const };
    }
  } catch (error) {
    return problemAsFormError(error);
  }
  return invalidForm({ intent: `Unknown action "${intent}"; reload the page and try again.` });
}

function RequestCard({ card }: { card: RenderRequestCardDto }) {
  const busy = useNavigation().state !== "idle";
  const facts = [
    card.scene.engine,
    card.scene.resolution,
    card.scene.samples === null ? null : `${card.scene.samples} samples`,
    `${card.scene.frames} frames (${card.scene.frameRange})`,
    card.scene.format,
    `${(card.scene.fileBytes / 1_000_000).toFixed(1)} MB`,
  ].filter(Boolean);
  return (
    <Card className="mb-3">
      <div className="flex items-start justify-between gap-2">
        <div className="min-w-0">
          <h2 className="truncate font-semibold">{card.scene.filename}</h2>
          <p className="text-sm text-stone-600">
            from <span className="font-medium">{card.owner}</span> · render {card.renderId}
          </p>
        </div>
        <p className="shrink-0 text-right text-sm">
          <span className="text-lg font-semibold text-cactus-700">{formatCredits(card.price)}</span>
          <br />
          <span className="text-stone-500">credits / WU</span>
        </p>
      </div>
      <p className="mt-2 text-sm text-stone-700">{facts.join(" · ")}</p>
      {card.scene.hasScripts ? (
        <p className="mt-1 text-sm text-amber-800">The file holds scripts; they never run (Blender starts with --disable-autoexec).</p>
      ) : null}
      {card.quote ? (
        <p className="mt-1 text-sm text-stone-700">
          Quote: {formatWu(card.quote.totalWu)} WU ({formatWu(card.quote.band.low)}–{formatWu(card.quote.band.high)}), up to{" "}
          {formatCredits(card.quote.credits)} credits for the whole render.
        </p>
      ) : null}
      <div className="mt-3 flex items-center gap-2">
        {card.decision === null ? (
          <p className="mr-auto text-sm font-medium text-amber-800">Awaits your answer</p>
        ) : (
          <p className="mr-auto text-sm text-stone-600">
            {card.decision === "accepted" ? "Accepted" : "Declined"}
            {card.byRule ? " by your rule" : ""}
          </p>
        )}
        {card.decision !== "accepted" ? (
          <Form method="post">
            <input type="hidden" name="renderId" value={card.renderId} />
            <Button name="intent" value="accept" disabled={busy}>
              Accept
            </Button>
          </Form>
        ) : null}
        {card.decision !== "declined" ? (
          <Form method="post">
            <input type="hidden" name="renderId" value={card.renderId} />
            <Button name="intent" value="decline" variant="secondary" disabled={busy}>
              Decline
            </Button>
          </Form>
        ) : null}
      </div>
    </Card>
  );
}

export default function RequestsPage() {
  const { requests, rule } = useLoaderData<typeof loader>();
  const answer = useActionData<{ formError?: string; fieldErrors?: Record<string, string> }>();
  const error = answer?.formError ?? answer?.fieldErrors?.minPrice ?? answer?.fieldErrors?.renderId;
  return (
    <>
      <PageTitle>Requests</PageTitle>
      <p className="-mt-3 mb-4 text-sm text-stone-600">
        Other people's renders asking for your workers. Accepted ones render on your machines (in the sandbox) when they have
        nothing of yours, dearest first, and pay you WU × price.
      </p>
      {error ? (
        <p role="alert" className="mb-3 rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          {error}
        </p>
      ) : null}
      {requests.length === 0 ? <Card className="mb-3 text-sm text-stone-600">No one asks for your workers now.</Card> : null}
      {requests.map((card) => (
        <RequestCard key={card.renderId} card={card} />
      ))}
      <Card className="mt-4">
        <h2 className="mb-1 font-semibold">Standing rule</h2>
        <p className="mb-2 text-sm text-stone-600">
          {rule
            ? `You accept every render paying at least ${formatCredits(rule.minPrice)} credits per WU${rule.from ? ` from ${rule.from.join(", ")}` : ""}.`
            : "Answer each request yourself, or accept every render paying at least a price."}
        </p>
        <Form method="post" className="flex items-end gap-2">
          <label className="flex flex-col gap-1 text-sm font-medium text-stone-700">
            At least (credits / WU)
            <input name="minPrice" type="number" min="0" step="0.01" defaultValue={rule?.minPrice ?? 1} className="w-24 rounded-lg border border-stone-300 px-3 py-2 text-base" />
          </label>
          <Button name="intent" value="rule" variant="secondary">
            {rule ? "Change" : "Set rule"}
          </Button>
          {rule ? (
            <Button name="intent" value="drop-rule" variant="danger">
              Drop
            </Button>
          ) : null}
        </Form>
      </Card>
    </>
  );
}
