import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useNavigation, useSearchParams } from "@remix-run/react";
import { Button, Card, Field, FormError } from "~/components/ui";
import { createUserSession, getSessionUser } from "~/lib/auth.server";
import { failureOf } from "~/lib/form";
import { formRefusal, invalidForm, parseForm } from "~/lib/form.server";
import { clientIp } from "~/lib/rate-limit.server";
import { signIn } from "~/lib/sign-in.server";
import { countUsers } from "~/models/user.server";
import { errorStatus, loginFormSchema } from "~/lib/page-forms.server";

export const meta: MetaFunction = () => [{ title: "Sign in · Cactus" }];

export async function loader({ request }: LoaderFunctionArgs) {
  if (await getSessionUser(request)) throw redirect("/projects");
  // A farm without users has nobody to sign in as yet: the admin is created first.
  if ((await countUsers()) === 0) throw redirect("/setup");
  return null;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const form = parseForm(loginFormSchema, await request.formData());
  if (!form.ok) return invalidForm(form.fieldErrors);
  const { username, password, redirectTo } = form.data;
  const result = await signIn({ ip: clientIp(request, context), username, password });
  if (!result.ok) {
    const headers = result.code === "rate_limited" ? { "Retry-After": String(result.retryAfter) } : undefined;
    return formRefusal(result.message, errorStatus[result.code], headers);
  }
  return createUserSession(request, context, result.user, redirectTo || "/projects");
}

export default function LoginPage() {
  const failure = failureOf(useActionData<typeof action>());
  const [searchParams] = useSearchParams();
  const busy = useNavigation().state !== "idle";
  return (
    <Card>
      <h1 className="mb-4 text-xl font-bold">Sign in</h1>
      <Form method="post" className="flex flex-col gap-4">
        <input type="hidden" name="redirectTo" value={searchParams.get("redirectTo") ?? ""} />
        <Field
          label="Username"
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          autoCorrect="off"
          spellCheck={false}
          required
          error={failure?.fieldErrors.username}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          error={failure?.fieldErrors.password}
        />
        <FormError>{failure?.formError}</FormError>
        <Button disabled={busy}>{busy ? "Signing in…" : "Sign in"}</Button>
      </Form>
      <p className="mt-4 text-sm text-stone-500">
        New here? Sign-up is by invitation: ask someone on this farm to invite you, then open their link.
      </p>
    </Card>
  );
}
