// The "verify before saving" choice, explained, with a nudge when the cluster was unreachable.

export function VerifyOption({ verify, onChange, unreachable }: { verify: boolean; onChange: (v: boolean) => void; unreachable: boolean }) {
  return (
    <div className="field">
      <label className="checkbox">
        <input type="checkbox" checked={verify} onChange={(e) => onChange(e.target.checked)} aria-describedby="verify-hint" />
        <span>Verify the connection before saving</span>
      </label>
      <p id="verify-hint" className="field-hint">
        Berth calls the cluster's <code>/version</code> and checks what the credentials may do before it saves anything. Untick this only for
        a cluster that is not reachable yet: it is then saved with the status the probe finds (down or unauthorized), and the regular probes show
        when it comes up. Refused kubeconfigs are refused either way.
      </p>
      {unreachable && verify && (
        <p className="alert alert-warning" role="status">
          The cluster could not be reached. Check the server address and your network, or untick “Verify the connection” to save it anyway.
        </p>
      )}
    </div>
  );
}
