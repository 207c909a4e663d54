// Light/dark theme: follows prefers-color-scheme until the user picks one with the toggle; the choice
// is persisted. The resolved theme is set as `data-theme` on <html>, which the CSS variables key on.
import { useSyncExternalStore } from "react";

export type Theme = "light" | "dark";
const KEY = "berth.theme";
const listeners = new Set<() => void>();

function systemTheme(): Theme {
  return typeof window.matchMedia === "function" && window.matchMedia("(prefers-color-scheme: dark)").matches
    ? "dark"
    : "light";
}

function storedTheme(): Theme | null {
  try {
    const v = localStorage.getItem(KEY);
    return v === "light" || v === "dark" ? v : null;
  } catch {
    return null;
  }
}

export function currentTheme(): Theme {
  return storedTheme() ?? systemTheme();
}

function apply(): void {
  document.documentElement.dataset.theme = currentTheme();
  for (const l of listeners) l();
}

export function setTheme(theme: Theme): void {
  try {
    localStorage.setItem(KEY, theme);
  } catch {
    // Not persisted; still applied for this page.
  }
  apply();
}

/** Applies the theme now and keeps following the system setting while no choice is stored. */
export function initTheme(): void {
  apply();
  if (typeof window.matchMedia === "function") {
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", apply);
  }
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useTheme(): [Theme, (t: Theme) => void] {
  const theme = useSyncExternalStore(subscribe, currentTheme, (): Theme => "light");
  return [theme, setTheme];
}
