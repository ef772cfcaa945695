import { Button, Card, Field, FormError } from "~/components/ui";
import { useIntentForm } from "./intent-form";

/** Change the password: every other device is signed out with it. */
export function PasswordSection() {
  const { fetcher: change, form, failure, done: changed } = useIntentForm("change-password");
  return (
    <Card className="mt-4">
      <h2 className="mb-1 font-semibold">Password</h2>
      <p className="mb-3 text-sm text-stone-600">Changing it signs out every other device. Your API tokens keep working.</p>
      <change.Form ref={form} method="post" className="flex flex-col gap-3">
        <input type="hidden" name="intent" value="change-password" />
        <Field
          label="Current password"
          name="currentPassword"
          type="password"
          autoComplete="current-password"
          required
          error={failure?.fieldErrors.currentPassword}
        />
        <Field
          label="New password"
          name="newPassword"
          type="password"
          autoComplete="new-password"
          minLength={10}
          required
          hint="At least 10 characters."
          error={failure?.fieldErrors.newPassword}
        />
        <FormError>{failure?.formError}</FormError>
        <Button disabled={change.state !== "idle"}>Change password</Button>
      </change.Form>
      {changed ? (
        <p role="status" className="mt-2 text-sm text-cactus-800">
          Password changed. {changed.endedSessions === 0 ? "No other device was signed in." : `Signed out ${changed.endedSessions} other ${changed.endedSessions === 1 ? "device" : "devices"}.`}
        </p>
      ) : null}
    </Card>
  );
}
