import { useEffect, useRef } from "react";

/**
 * Moves focus to the first invalid control of a form whenever `errors` changes, so keyboard and
 * screen-reader users land on (and hear) the field that needs fixing.
 */
export function useFocusInvalid<T extends HTMLElement>(errors: unknown) {
  const ref = useRef<T>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [errors]);
  return ref;
}
