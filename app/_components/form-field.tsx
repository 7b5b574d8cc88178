import type { InputHTMLAttributes } from "react";

/** A labelled input with its error message next to it, wired for screen readers. */
export function FormField({
  label,
  name,
  errors,
  hint,
  ...input
}: { label: string; name: string; errors?: string[]; hint?: string } & InputHTMLAttributes<HTMLInputElement>) {
  const id = `field-${name}`;
  const describedBy = [errors?.length ? `${id}-error` : null, hint ? `${id}-hint` : null].filter(Boolean).join(" ");
  return (
    <div>
      <label htmlFor={id} className="field-label">{label}</label>
      <input
        id={id}
        name={name}
        className="field-input"
        aria-invalid={errors?.length ? true : undefined}
        aria-describedby={describedBy || undefined}
        {...input}
      />
      {hint ? <p id={`${id}-hint`} className="mt-1 text-xs text-stone-500">{hint}</p> : null}
      {errors?.length ? <p id={`${id}-error`} className="field-error">{errors[0]}</p> : null}
    </div>
  );
}
