import { useEffect } from "react";

/** Names the browser tab (and the page for screen readers) after the current page. */
export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Berth` : "Berth";
  }, [title]);
}
