// Catches render errors so a bug shows a message with a way out instead of a blank page.
import { Component, type ErrorInfo, type ReactNode } from "react";

interface Props {
  children: ReactNode;
}
interface State {
  error: Error | null;
}

export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error("Dashboard render error", error, info.componentStack);
  }

  override render(): ReactNode {
    if (this.state.error === null) return this.props.children;
    return (
      <div className="state state-error" role="alert">
        <strong>This page failed to render</strong>
        <span>{this.state.error.message}</span>
        <div className="row">
          <button type="button" className="btn btn-secondary" onClick={() => this.setState({ error: null })}>
            Try again
          </button>
          <a className="btn btn-ghost" href="/">
            Go to overview
          </a>
        </div>
      </div>
    );
  }
}
