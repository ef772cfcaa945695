import { Field } from "./ui";

/** The username and new password of an account being made: by setup and by sign-up. */
export function NewAccountFields({ errors }: { errors?: { username?: string; password?: string } }) {
  return (
    <>
      <Field
        label="Username"
        name="username"
        autoComplete="username"
        autoCapitalize="none"
        spellCheck={false}
        required
        hint="2–39 letters, digits, '.', '_' or '-'."
        error={errors?.username}
      />
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete="new-password"
        required
        minLength={10}
        hint="At least 10 characters."
        error={errors?.password}
      />
    </>
  );
}
