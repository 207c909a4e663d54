// Routes. The router itself is provided by main.tsx (BrowserRouter) or by tests (MemoryRouter).
import { Route, Routes } from "react-router";
import { AuditPage } from "./features/admin/audit/AuditPage";
import { TokensPage } from "./features/admin/tokens/TokensPage";
import { UsersPage } from "./features/admin/users/UsersPage";
import { AuthProvider } from "./features/auth/AuthProvider";
import { LoginPage } from "./features/auth/LoginPage";
import { RequireAuth, RequireRole } from "./features/auth/RequireAuth";
import { OverviewPage } from "./features/overview/OverviewPage";
import { EnvironmentDetailPage } from "./features/environments/EnvironmentDetailPage";
import { EnvironmentsPage } from "./features/environments/EnvironmentsPage";
import { RegisterEnvironmentPage } from "./features/environments/RegisterEnvironmentPage";
import { RepositoriesPage } from "./features/repositories/RepositoriesPage";
import { RepositoryDetailPage } from "./features/repositories/RepositoryDetailPage";
import { EditRepositoryPage, NewRepositoryPage } from "./features/repositories/RepositoryFormPage";
import { DeploymentDetailPage } from "./features/rollouts/DeploymentDetailPage";
import { RolloutDetailPage } from "./features/rollouts/RolloutDetailPage";
import { PreviewPage } from "./features/stacks/PreviewPage";
import { StackDetailPage } from "./features/stacks/StackDetailPage";
import { EditStackPage, NewStackPage } from "./features/stacks/StackFormPage";
import { StacksPage } from "./features/stacks/StacksPage";
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
            <Route path="environments" element={<EnvironmentsPage />} />
            <Route
              path="environments/new"
              element={
                <RequireRole role="admin">
                  <RegisterEnvironmentPage />
                </RequireRole>
              }
            />
            <Route path="environments/:id" element={<EnvironmentDetailPage />} />
            <Route path="repositories" element={<RepositoriesPage />} />
            <Route
              path="repositories/new"
              element={
                <RequireRole role="admin">
                  <NewRepositoryPage />
                </RequireRole>
              }
            />
            <Route path="repositories/:id" element={<RepositoryDetailPage />} />
            <Route
              path="repositories/:id/edit"
              element={
                <RequireRole role="admin">
                  <EditRepositoryPage />
                </RequireRole>
              }
            />
            <Route path="stacks" element={<StacksPage />} />
            <Route
              path="stacks/new"
              element={
                <RequireRole role="admin">
                  <NewStackPage />
                </RequireRole>
              }
            />
            <Route path="stacks/:id" element={<StackDetailPage />} />
            <Route
              path="stacks/:id/edit"
              element={
                <RequireRole role="admin">
                  <EditStackPage />
                </RequireRole>
              }
            />
            <Route
              path="stacks/:id/preview"
              element={
                <RequireRole role="operator">
                  <PreviewPage />
                </RequireRole>
              }
            />
            <Route path="rollouts/:id" element={<RolloutDetailPage />} />
            <Route path="deployments/:id" element={<DeploymentDetailPage />} />
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
