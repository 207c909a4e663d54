// The signed-in shell: sidebar, top bar, and the current page (behind an error boundary that resets
// on navigation, so one broken page never blanks the app). Holds the tab's one live event stream.
import { useEffect, useState } from "react";
import { Outlet, useLocation } from "react-router";
import { getVersion } from "../api/meta";
import { EventsProvider } from "../api/EventsProvider";
import { ErrorBoundary } from "../components/ErrorBoundary";
import { LiveIndicator } from "./LiveIndicator";
import { Sidebar } from "./Sidebar";
import { ThemeToggle } from "./ThemeToggle";
import { UserMenu } from "./UserMenu";
import { VersionContext } from "./VersionContext";

export function AppLayout() {
  const location = useLocation();
  const [version, setVersion] = useState<{ value: string | null; error: unknown }>({ value: null, error: null });

  useEffect(() => {
    const ctl = new AbortController();
    getVersion(ctl.signal).then(
      (v) => setVersion({ value: v.version, error: null }),
      (error: unknown) => {
        if (!ctl.signal.aborted) setVersion({ value: null, error });
      },
    );
    return () => ctl.abort();
  }, []);

  return (
    <EventsProvider>
    <VersionContext.Provider value={version}>
      <div className="app">
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <Sidebar version={version.value} />
        <div className="app-main">
          <header className="topbar">
            <div className="topbar-spacer" />
            <LiveIndicator />
            <ThemeToggle />
            <UserMenu />
          </header>
          <main id="main" className="content" tabIndex={-1}>
            <ErrorBoundary key={location.pathname}>
              <Outlet />
            </ErrorBoundary>
          </main>
        </div>
      </div>
    </VersionContext.Provider>
    </EventsProvider>
  );
}
