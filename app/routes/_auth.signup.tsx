import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { NewAccountFields } from "~/components/new-account-fields";
import { Button, Card, FormError } from "~/components/ui";
import { createUserSession } from "~/lib/auth.server";
import { failureOf } from "~/lib/form";
import { formRefusal, invalidForm, parseForm, problemAsFormError } from "~/lib/form.server";
import { clientIp, takeSignupAttempt, tooManyAttemptsMessage } from "~/lib/rate-limit.server";
import { checkInvitationCode, redeemInvitation } from "~/models/invitation.server";
import { UsernameTakenError } from "~/models/user.server";
import { NO_CODE, signupFormSchema } from "~/lib/page-forms.server";
import { formatCredits } from "../../domain/work-units";

export const meta: MetaFunction = () => [{ title: "Sign up · Cactus" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const code = new URL(request.url).searchParams.get("code")?.trim() ?? "";
  // Say at once when the link no longer works, rather than after the form is filled in.
  if (!code) return { code, refusal: NO_CODE, credits: null };
  const { refusal, credits } = await checkInvitationCode(code);
  return { code, refusal: refusal?.message ?? null, credits };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const form = parseForm(signupFormSchema, await request.formData());
  if (!form.ok) return invalidForm(form.fieldErrors);
  const wait = takeSignupAttempt(clientIp(request, context));
  if (wait > 0) return formRefusal(tooManyAttemptsMessage(wait), 429, { "Retry-After": String(wait) });
  try {
    const user = await redeemInvitation(form.data);
    return await createUserSession(request, context, user, "/projects");
  } catch (error) {
    return problemAsFormError(error, error instanceof UsernameTakenError ? "username" : undefined);
  }
}

export default function SignupPage() {
  const { code, refusal, credits } = useLoaderData<typeof loader>();
  const failure = failureOf(useActionData<typeof action>());
  const busy = useNavigation().state !== "idle";
  if (refusal) {
    return (
      <Card>
        <h1 className="mb-3 text-xl font-bold">Sign up</h1>
        <FormError>{refusal}</FormError>
        <p className="mt-4 text-sm text-stone-600">
          Already have an account?{" "}
          <Link to="/login" className="font-semibold text-cactus-700 underline underline-offset-4">
            Sign in
          </Link>
        </p>
      </Card>
    );
  }
  return (
    <Card>
      <h1 className="mb-1 text-xl font-bold">Sign up</h1>
      <p className="mb-4 text-sm text-stone-600">
        You were invited{credits ? `, with ${formatCredits(credits)} credits to start` : ""}. Choose a username and a password.
        {credits ? " Credits pay other people's machines for rendering your scenes; your own machines are free." : ""}
      </p>
      <Form method="post" className="flex flex-col gap-4">
        <input type="hidden" name="code" value={code} />
        <NewAccountFields errors={failure?.fieldErrors} />
        <FormError>{failure?.formError ?? failure?.fieldErrors.code}</FormError>
        <Button disabled={busy}>{busy ? "Signing up…" : "Sign up"}</Button>
      </Form>
    </Card>
  );
}
