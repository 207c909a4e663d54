// Splits an API failure into a message for a named form field (400/422/409 with `field`) or one for
// the whole form.
import { describeError, isApiError } from "../api/errors";

export interface FormErrors<F extends string> {
  fields: Partial<Record<F, string>>;
  form: string | null;
}

export const noErrors = { fields: {}, form: null } as const;

export function toFormErrors<F extends string>(e: unknown, fields: readonly F[]): FormErrors<F> {
  if (isApiError(e) && e.field !== null && (fields as readonly string[]).includes(e.field)) {
    return { fields: { [e.field]: e.message } as Partial<Record<F, string>>, form: null };
  }
  return { fields: {}, form: describeError(e) };
}
