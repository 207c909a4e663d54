import { render } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, useLocation } from "react-router";
import { App } from "../App";

/** The current location, rendered so tests can assert where the app navigated. */
function LocationProbe() {
  const l = useLocation();
  return (
    <output data-testid="location" hidden>
      {l.pathname + l.search}
    </output>
  );
}

export function renderApp(path = "/") {
  const user = userEvent.setup();
  const utils = render(
    <MemoryRouter initialEntries={[path]}>
      <App />
      <LocationProbe />
    </MemoryRouter>,
  );
  return { user, ...utils };
}
