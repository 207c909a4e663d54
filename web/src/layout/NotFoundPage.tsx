import { Link, useLocation } from "react-router";
import { useDocumentTitle } from "../lib/useDocumentTitle";

export function NotFoundPage() {
  const location = useLocation();
  useDocumentTitle("Page not found");
  return (
    <div className="state">
      <p className="big-code" aria-hidden="true">
        404
      </p>
      <h1>Page not found</h1>
      <p className="muted">
        Nothing lives at <code>{location.pathname}</code>.
      </p>
      <Link className="btn btn-primary" to="/">
        Go to overview
      </Link>
    </div>
  );
}
