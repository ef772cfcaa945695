import { redirect, type ActionFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useNavigation } from "@remix-run/react";
import { NewAccountFields } from "~/components/new-account-fields";
import { Button, Card, Field, FormError } from "~/components/ui";
import { createUserSession } from "~/lib/auth.server";
import { failureOf } from "~/lib/form";
import { formRefusal, invalidForm, parseForm, problemAsFormError } from "~/lib/form.server";
import { Problem } from "~/lib/problem.server";
import { clientIp, takeSignupAttempt, tooManyAttemptsMessage } from "~/lib/rate-limit.server";
import { countUsers, createFirstAdmin, UsernameTakenError } from "~/models/user.server";
import { setupFormSchema } from "~/lib/page-forms.server";

export const meta: MetaFunction = () => [{ title: "Set up · Cactus" }];

/** Setup exists only until the first user does; after that, everyone signs in. */
async function requireNoUsers() {
  if ((await countUsers()) > 0) throw redirect("/login");
}

export async function loader() {
  await requireNoUsers();
  return null;
}

export async function action({ request, context }: ActionFunctionArgs) {
  await requireNoUsers();
  const form = parseForm(setupFormSchema, await request.formData());
  if (!form.ok) return invalidForm(form.fieldErrors);
  const wait = takeSignupAttempt(clientIp(request, context));
  if (wait > 0) return formRefusal(tooManyAttemptsMessage(wait), 429, { "Retry-After": String(wait) });
  try {
    const admin = await createFirstAdmin(form.data);
    return await createUserSession(request, context, admin, "/projects");
  } catch (error) {
    const field = error instanceof UsernameTakenError ? "username" : error instanceof Problem && error.code === "forbidden" ? "code" : undefined;
    return problemAsFormError(error, field);
  }
}

export default function SetupPage() {
  const failure = failureOf(useActionData<typeof action>());
  const busy = useNavigation().state !== "idle";
  return (
    <Card>
      <h1 className="mb-1 text-xl font-bold">Create the admin</h1>
      <p className="mb-4 text-sm text-stone-600">
        Nobody uses this farm yet. The server printed a one-time setup code on its console when it started; paste it
        here and choose the admin&apos;s username and password.
      </p>
      <Form method="post" className="flex flex-col gap-4">
        <Field
          label="Setup code"
          name="code"
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          required
          error={failure?.fieldErrors.code}
        />
        <NewAccountFields errors={failure?.fieldErrors} />
        <FormError>{failure?.formError}</FormError>
        <Button disabled={busy}>{busy ? "Creating…" : "Create admin and sign in"}</Button>
      </Form>
    </Card>
  );
}
