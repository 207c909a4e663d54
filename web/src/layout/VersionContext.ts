import { createContext, useContext } from "react";

export interface VersionState {
  value: string | null;
  error: unknown;
}

/** The server version, fetched once by the layout. */
export const VersionContext = createContext<VersionState>({ value: null, error: null });

export function useServerVersion(): VersionState {
  return useContext(VersionContext);
}
