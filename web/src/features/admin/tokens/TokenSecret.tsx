// The one-time display of a token secret, with a copy button that says whether copying worked.
import { useState } from "react";
import { CopyIcon } from "../../../components/icons";

export function TokenSecret({ token }: { token: string }) {
  const [copied, setCopied] = useState<"idle" | "ok" | "failed">("idle");

  async function copy() {
    try {
      await navigator.clipboard.writeText(token);
      setCopied("ok");
    } catch {
      setCopied("failed");
    }
  }

  return (
    <div className="secret">
      <label className="sr-only" htmlFor="new-token-secret">
        API token
      </label>
      <input id="new-token-secret" className="secret-value" readOnly value={token} onFocus={(e) => e.target.select()} />
      <button type="button" className="btn btn-secondary" onClick={() => void copy()}>
        <CopyIcon /> {copied === "ok" ? "Copied" : "Copy"}
      </button>
      <span className="sr-only" role="status">
        {copied === "ok" ? "Token copied to the clipboard" : ""}
      </span>
      {copied === "failed" && <p className="field-error">Copying is not allowed here; select the token and copy it by hand.</p>}
    </div>
  );
}
