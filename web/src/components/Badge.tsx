import type { ReactNode } from "react";

export type Tone = "ok" | "warn" | "error" | "muted" | "info";

/** A small status pill; the tone colours it, the text always says it (never colour alone). */
export function Badge({ tone, children, title }: { tone: Tone; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      <span className="badge-dot" aria-hidden="true" />
      {children}
    </span>
  );
}
