import { Link, useLocation } from "react-router";

export function NotFoundPage() {
  const location = useLocation();
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
