// Sign-in form. Sends the user back to the page they wanted (`?next=`), and explains wrong
// credentials, rate limiting and field errors in place.
import { useEffect, useState, type SubmitEvent } from "react";
import { Navigate, useNavigate, useSearchParams } from "react-router";
import { isApiError } from "../../api/errors";
import { getVersion } from "../../api/meta";
import { Field } from "../../components/Field";
import { Alert } from "../../components/feedback";
import { LogoMark } from "../../components/icons";
import { toFormErrors, type FormErrors } from "../../lib/formErrors";
import { ThemeToggle } from "../../layout/ThemeToggle";
import { useAuth } from "./AuthContext";
import { safeNext } from "./RequireAuth";
import { useDocumentTitle } from "../../lib/useDocumentTitle";
import { useFocusInvalid } from "../../lib/useFocusInvalid";

const FIELDS = ["username", "password"] as const;
type LoginField = (typeof FIELDS)[number];

function loginErrors(e: unknown): FormErrors<LoginField> {
  if (isApiError(e) && e.code === "invalid_credentials") {
    return { fields: {}, form: "Wrong username or password." };
  }
  return toFormErrors(e, FIELDS);
}

export function LoginPage() {
  const { state, signIn } = useAuth();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const next = safeNext(params.get("next"));
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<FormErrors<LoginField>>({ fields: {}, form: null });
  const [version, setVersion] = useState<string | null>(null);
  useDocumentTitle("Sign in");
  const formRef = useFocusInvalid<HTMLFormElement>(errors);

  useEffect(() => {
    const ctl = new AbortController();
    getVersion(ctl.signal).then(
      (v) => setVersion(v.version),
      () => undefined, // The version is decoration here; the form works without it.
    );
    return () => ctl.abort();
  }, []);

  if (state.status === "authenticated" && !busy) return <Navigate to={next} replace />;

  const expired = params.get("expired") === "1" || (state.status === "anonymous" && state.expired);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const fields: Partial<Record<LoginField, string>> = {};
    if (!username.trim()) fields.username = "Enter your username.";
    if (!password) fields.password = "Enter your password.";
    if (Object.keys(fields).length > 0) {
      setErrors({ fields, form: null });
      return;
    }
    setBusy(true);
    setErrors({ fields: {}, form: null });
    try {
      await signIn(username.trim(), password);
      void navigate(next, { replace: true });
    } catch (err) {
      setErrors(loginErrors(err));
      setPassword("");
      setBusy(false);
    }
  }

  return (
    <div className="login-screen">
      <div className="login-theme">
        <ThemeToggle />
      </div>
      <main className="login-card">
        <div className="login-brand">
          <LogoMark width={32} height={32} />
          <span>Berth</span>
        </div>
        <h1>Sign in</h1>
        <p className="muted">GitOps deployments for your fleet of Kubernetes clusters.</p>
        {expired && !errors.form && <Alert kind="info">Your session has ended. Sign in again to continue.</Alert>}
        {errors.form && <Alert>{errors.form}</Alert>}
        <form ref={formRef} onSubmit={(e) => void submit(e)} noValidate>
          <Field label="Username" error={errors.fields.username}>
            {(p) => (
              <input
                {...p}
                name="username"
                autoComplete="username"
                autoFocus
                value={username}
                onChange={(e) => setUsername(e.target.value)}
              />
            )}
          </Field>
          <Field label="Password" error={errors.fields.password}>
            {(p) => (
              <input
                {...p}
                name="password"
                type="password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            )}
          </Field>
          <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </form>
      </main>
      <footer className="login-footer muted">{version ? `Berth ${version}` : "\u00a0"}</footer>
    </div>
  );
}
