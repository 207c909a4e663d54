// Webhook set-up per provider: the receiver URL to copy, the secret (admins: reveal, copy, rotate),
// and where each Git host wants them. Webhooks only make a check happen now; polling continues.
import { useState } from "react";
import { API_BASE } from "../../api/client";
import { describeError } from "../../api/errors";
import { getWebhookSecret, rotateWebhookSecret } from "../../api/repositories";
import type { Repository } from "../../api/types";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { CopyField } from "../../components/CopyField";
import { Alert } from "../../components/feedback";
import { Tabs } from "../../components/Tabs";
import { useCan } from "../auth/useCan";
import { PROVIDERS, webhookUrl, type Provider } from "./webhookProviders";

export function WebhooksPanel({ repo, initialSecret }: { repo: Repository; initialSecret: string | null }) {
  const canAdmin = useCan("admin");
  const [provider, setProvider] = useState<Provider>("github");
  const [secret, setSecret] = useState<string | null>(initialSecret);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [confirmRotate, setConfirmRotate] = useState(false);
  const info = PROVIDERS.find((p) => p.key === provider) ?? PROVIDERS[0];

  async function reveal() {
    setLoading(true);
    setError(null);
    try {
      setSecret((await getWebhookSecret(repo.id)).webhook_secret);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setLoading(false);
    }
  }

  return (
    <section className="card" aria-labelledby="webhooks-title">
      <h2 id="webhooks-title" className="card-title">
        Webhooks
      </h2>
      <p className="muted">A verified delivery makes Berth check this repository now; the schedule keeps running. Deliveries are matched to the repository by its URL.</p>
      <Tabs label="Git host" tabs={PROVIDERS.map((p) => ({ key: p.key, label: p.label }))} selected={provider} onSelect={setProvider}>
        <CopyField label="Webhook URL" value={webhookUrl(API_BASE, provider)} />
        {info && (
          <ol className="steps">
            {info.steps.map((s) => (
              <li key={s}>{s}</li>
            ))}
          </ol>
        )}
      </Tabs>
      {error && <Alert>{error}</Alert>}
      {canAdmin ? (
        secret !== null ? (
          <>
            <CopyField label="Webhook secret" value={secret} />
            <button type="button" className="btn btn-secondary btn-sm" onClick={() => setConfirmRotate(true)}>
              Rotate secret
            </button>
          </>
        ) : (
          <button type="button" className="btn btn-secondary" onClick={() => void reveal()} disabled={loading}>
            {loading ? "Loading…" : "Show webhook secret"}
          </button>
        )
      ) : (
        <p className="muted">Only admins can read the webhook secret.</p>
      )}
      {confirmRotate && (
        <ConfirmDialog
          title="Rotate the webhook secret?"
          confirmLabel="Rotate secret"
          danger
          onClose={() => setConfirmRotate(false)}
          onConfirm={async () => setSecret((await rotateWebhookSecret(repo.id)).webhook_secret)}
        >
          <p>Deliveries signed with the current secret are refused from now on. Update the secret on every Git host that sends webhooks.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
