// The contexts of an uploaded kubeconfig: tick one or several; each ticked context becomes an
// environment with its own name.
import type { KubeContext } from "./kubeconfigContexts";
import type { ItemErrors } from "./registerErrors";

export interface ContextChoice {
  context: string;
  name: string;
}

interface ContextPickerProps {
  contexts: KubeContext[];
  current: string | null;
  chosen: ContextChoice[];
  onChange: (chosen: ContextChoice[]) => void;
  defaultName: (context: string) => string;
  /** Errors by position in `chosen`. */
  errors: Record<number, ItemErrors>;
  error?: string;
}

export function ContextPicker({ contexts, current, chosen, onChange, defaultName, errors, error }: ContextPickerProps) {
  function toggle(context: string, on: boolean) {
    if (on) {
      const next = [...chosen, { context, name: defaultName(context) }];
      // Keep the file's order, so errors by position stay meaningful.
      next.sort((a, b) => contexts.findIndex((c) => c.name === a.context) - contexts.findIndex((c) => c.name === b.context));
      onChange(next);
    } else {
      onChange(chosen.filter((c) => c.context !== context));
    }
  }

  return (
    <fieldset className="field context-picker" aria-describedby={error ? "context-picker-error" : undefined}>
      <legend className="field-label">Contexts</legend>
      <p className="field-hint">This file has {contexts.length} contexts. Each one you tick is registered as its own environment.</p>
      {error && (
        <p id="context-picker-error" className="field-error">
          {error}
        </p>
      )}
      <ul className="context-list">
        {contexts.map((c) => {
          const index = chosen.findIndex((x) => x.context === c.name);
          const choice = chosen[index];
          const err = index >= 0 ? errors[index] : undefined;
          const nameId = `context-name-${c.name}`;
          const errId = `${nameId}-error`;
          const message = err?.name ?? err?.context ?? err?.tags ?? err?.default_namespace;
          return (
            <li key={c.name} className="context-item">
              <label className="checkbox">
                <input type="checkbox" checked={choice !== undefined} onChange={(e) => toggle(c.name, e.target.checked)} />
                <span>
                  <strong>{c.name}</strong>
                  {c.name === current && <span className="badge badge-info">current</span>}
                  <span className="muted">
                    {" "}
                    cluster {c.cluster ?? "?"}
                    {c.namespace ? `, namespace ${c.namespace}` : ""}
                  </span>
                </span>
              </label>
              {choice !== undefined && (
                <div className="context-name">
                  <label htmlFor={nameId}>Environment name for {c.name}</label>
                  <input
                    id={nameId}
                    value={choice.name}
                    aria-invalid={Boolean(message)}
                    aria-describedby={message ? errId : undefined}
                    onChange={(e) => onChange(chosen.map((x) => (x.context === c.name ? { ...x, name: e.target.value } : x)))}
                  />
                  {message && (
                    <p id={errId} className="field-error">
                      {message}
                    </p>
                  )}
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </fieldset>
  );
}
