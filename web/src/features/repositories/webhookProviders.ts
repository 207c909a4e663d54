// How each Git host signs webhook deliveries to Berth, for the setup instructions.
export type Provider = "github" | "gitlab" | "gitea" | "bitbucket" | "generic";

export interface ProviderInfo {
  key: Provider;
  label: string;
  /** Where to paste the URL and secret on the host, step by step. */
  steps: string[];
}

export const PROVIDERS: readonly ProviderInfo[] = [
  {
    key: "github",
    label: "GitHub",
    steps: [
      "Repository → Settings → Webhooks → Add webhook.",
      "Payload URL: the URL below. Content type: application/json.",
      "Secret: the webhook secret. Berth checks the X-Hub-Signature-256 header.",
      "Events: just the push event.",
    ],
  },
  {
    key: "gitlab",
    label: "GitLab",
    steps: ["Project → Settings → Webhooks → Add new webhook.", "URL: the URL below.", "Secret token: the webhook secret (sent as X-Gitlab-Token).", "Trigger: push events and tag push events."],
  },
  {
    key: "gitea",
    label: "Gitea / Forgejo",
    steps: ["Repository → Settings → Webhooks → Add webhook → Gitea (or Forgejo).", "Target URL: the URL below, POST, content type application/json.", "Secret: the webhook secret (HMAC-SHA256 signature).", "Trigger on: push events."],
  },
  {
    key: "bitbucket",
    label: "Bitbucket",
    steps: ["Repository settings → Webhooks → Add webhook.", "URL: the URL below.", "Secret: the webhook secret (Berth checks X-Hub-Signature: sha256=…).", "Triggers: repository push."],
  },
  {
    key: "generic",
    label: "Generic",
    steps: [
      'POST a JSON body naming the repository: {"repository_url": "<the repository URL>"}.',
      "Sign it: header X-Berth-Signature-256: sha256=<hex HMAC-SHA256 of the exact body, keyed with the webhook secret>.",
      "Add ?wait=10 to wait up to 10 seconds for the check's outcome in the answer.",
    ],
  },
];

/** The public URL of a provider's webhook receiver on this Berth. */
export function webhookUrl(apiBase: string, provider: Provider, origin = window.location.origin): string {
  return `${origin}${apiBase}/webhooks/${provider}`;
}
