// A read-only value (URL, secret) with a copy button that says whether copying worked.
import { useId, useState } from "react";
import { CopyIcon } from "./icons";

export function CopyField({ label, value, mono = true }: { label: string; value: string; mono?: boolean }) {
  const id = useId();
  const [copied, setCopied] = useState<"idle" | "ok" | "failed">("idle");

  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setCopied("ok");
    } catch {
      setCopied("failed");
    }
  }

  return (
    <div className="field">
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      <div className="secret">
        <input id={id} className={mono ? "secret-value" : undefined} readOnly value={value} onFocus={(e) => e.target.select()} />
        <button type="button" className="btn btn-secondary" onClick={() => void copy()} aria-label={`Copy ${label.toLowerCase()}`}>
          <CopyIcon /> {copied === "ok" ? "Copied" : "Copy"}
        </button>
        <span className="sr-only" role="status">
          {copied === "ok" ? `${label} copied to the clipboard` : ""}
        </span>
      </div>
      {copied === "failed" && <p className="field-error">Copying is not allowed here; select the text and copy it by hand.</p>}
    </div>
  );
}
