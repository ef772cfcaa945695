import type { ButtonHTMLAttributes, InputHTMLAttributes, ReactNode, SelectHTMLAttributes } from "react";

// The few building blocks every page shares, so forms look and behave the same.

const buttonStyles = {
  // Dark mode turns the palette over: there a disabled primary would be a vivid green, so it is a muted one.
  primary: "bg-cactus-700 text-white hover:bg-cactus-800 disabled:bg-cactus-300 dark:disabled:bg-cactus-100 dark:disabled:text-stone-500",
  secondary: "border border-stone-300 bg-white text-stone-800 hover:bg-stone-100 disabled:text-stone-400",
  danger: "border border-red-300 bg-white text-red-700 hover:bg-red-50 disabled:text-red-300",
} as const;

export function Button({
  variant = "primary",
  className = "",
  type = "submit",
  ...props
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: keyof typeof buttonStyles }) {
  return (
    <button
      type={type}
      className={`inline-flex min-h-11 items-center justify-center rounded-lg px-4 py-2 text-sm font-semibold transition-colors disabled:cursor-not-allowed ${buttonStyles[variant]} ${className}`}
      {...props}
    />
  );
}

/** A labelled input with its error underneath, wired for screen readers. */
export function Field({
  label,
  name,
  error,
  hint,
  className = "",
  ...input
}: InputHTMLAttributes<HTMLInputElement> & { label: string; name: string; error?: string; hint?: ReactNode }) {
  const id = input.id ?? `field-${name}`;
  const describedBy = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  return (
    <div className={`flex flex-col gap-1 ${className}`}>
      <label htmlFor={id} className="text-sm font-medium text-stone-700">
        {label}
      </label>
      <input
        id={id}
        name={name}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        className={`min-h-11 rounded-lg border bg-white px-3 py-2 text-base outline-none focus:ring-2 focus:ring-cactus-500 ${
          error ? "border-red-400" : "border-stone-300"
        }`}
        {...input}
      />
      <FieldNote id={id} error={error} hint={hint} />
    </div>
  );
}

/** A Field for a whole number within `range`: a phone shows its number pad, the browser keeps it in range. */
export function NumberField({ range, ...field }: Parameters<typeof Field>[0] & { range: { min: number; max: number } }) {
  return <Field type="number" inputMode="numeric" min={range.min} max={range.max} {...field} />;
}

export function Card({ children, className = "" }: { children: ReactNode; className?: string }) {
  return <section className={`rounded-xl border border-stone-200 bg-white p-4 shadow-sm ${className}`}>{children}</section>;
}

export function PageTitle({ children, action }: { children: ReactNode; action?: ReactNode }) {
  return (
    <div className="mb-4 flex items-center justify-between gap-2">
      <h1 className="text-2xl font-bold text-stone-900">{children}</h1>
      {action}
    </div>
  );
}

/** A message about the whole form (not one field), e.g. "wrong password". */
export function FormError({ children }: { children?: ReactNode }) {
  if (!children) return null;
  return (
    <p role="alert" className="rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
      {children}
    </p>
  );
}

/** Under a field: its error, or else its hint (ids as aria-describedby names them). */
function FieldNote({ id, error, hint }: { id: string; error?: string; hint?: ReactNode }) {
  if (error) {
    return (
      <p id={`${id}-error`} className="text-sm text-red-700">
        {error}
      </p>
    );
  }
  if (!hint) return null;
  return (
    <p id={`${id}-hint`} className="text-sm text-stone-500">
      {hint}
    </p>
  );
}

/** A labelled select, like Field: its error (or hint) underneath. */
export function SelectField({
  label,
  name,
  options,
  error,
  hint,
  ...select
}: SelectHTMLAttributes<HTMLSelectElement> & {
  label: string;
  name: string;
  options: { value: string; label: string }[];
  error?: string;
  hint?: ReactNode;
}) {
  const id = select.id ?? `field-${name}`;
  const describedBy = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  return (
    <div className="flex min-w-0 flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium text-stone-700">
        {label}
      </label>
      <select
        id={id}
        name={name}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        className={`min-h-11 min-w-0 rounded-lg border bg-white px-3 py-2 text-base outline-none focus:ring-2 focus:ring-cactus-500 ${
          error ? "border-red-400" : "border-stone-300"
        }`}
        {...select}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      <FieldNote id={id} error={error} hint={hint} />
    </div>
  );
}

/** Things to know before (or while) a render runs: refusals in red, warnings in amber. */
export function Notes({ kind, title, items }: { kind: "refusal" | "warning"; title: string; items: string[] }) {
  if (items.length === 0) return null;
  const style = kind === "refusal" ? "border-red-200 bg-red-50 text-red-800" : "border-amber-200 bg-amber-50 text-amber-900";
  return (
    <div role={kind === "refusal" ? "alert" : "status"} className={`rounded-lg border px-3 py-2 text-sm wrap-anywhere ${style}`}>
      <p className="font-semibold">{title}</p>
      <ul className="mt-1 flex list-disc flex-col gap-1 pl-5">
        {items.map((item) => (
          <li key={item}>{item}</li>
        ))}
      </ul>
    </div>
  );
}
