// Routes. The router itself is provided by main.tsx (BrowserRouter) or by tests (MemoryRouter).
import { Route, Routes } from "react-router";
import { AuditPage } from "./features/admin/audit/AuditPage";
import { TokensPage } from "./features/admin/tokens/TokensPage";
import { UsersPage } from "./features/admin/users/UsersPage";
import { AuthProvider } from "./features/auth/AuthProvider";
import { LoginPage } from "./features/auth/LoginPage";
import { RequireAuth, RequireRole } from "./features/auth/RequireAuth";
import { OverviewPage } from "./features/overview/OverviewPage";
import { AppLayout } from "./layout/AppLayout";
import { NotFoundPage } from "./layout/NotFoundPage";
import { ErrorBoundary } from "./components/ErrorBoundary";

export function App() {
  return (
    <ErrorBoundary>
      <AuthProvider>
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          <Route
            element={
              <RequireAuth>
                <AppLayout />
              </RequireAuth>
            }
          >
            <Route index element={<OverviewPage />} />
            <Route
              path="admin/users"
              element={
                <RequireRole role="admin">
                  <UsersPage />
                </RequireRole>
              }
            />
            <Route path="admin/tokens" element={<TokensPage />} />
            <Route
              path="admin/audit"
              element={
                <RequireRole role="admin">
                  <AuditPage />
                </RequireRole>
              }
            />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Routes>
      </AuthProvider>
    </ErrorBoundary>
  );
}
