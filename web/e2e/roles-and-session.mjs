// A viewer sees no action they cannot perform; an admin whose session ends mid-way is sent to
// sign in and comes back to the same filtered page. Needs BERTH_VIEWER_USER and
// BERTH_VIEWER_PASSWORD, and an environment and a repository to exist.
import { config, expectNone, need, scenario } from "./lib/harness.mjs";

const viewer = need("BERTH_VIEWER_USER");
const viewerPassword = need("BERTH_VIEWER_PASSWORD");

await scenario("roles-and-session", async (t) => {
  const { page } = t;

  await t.step("a viewer sees the fleet but no actions", async () => {
    await t.login(viewer, viewerPassword);
    const nav = page.getByRole("navigation", { name: "Main" });
    await expectNone(nav.getByRole("link", { name: "Users" }), "the Users page link");
    await nav.getByRole("link", { name: "Environments" }).click();
    await page.locator("tbody tr").first().waitFor();
    await expectNone(page.getByRole("link", { name: "Register environment" }), "the register button");
    await page.locator("tbody tr").first().getByRole("link").first().click();
    await page.getByRole("region", { name: "Health" }).waitFor();
    for (const name of ["Probe now", "Edit", "Rotate kubeconfig", "Delete"]) {
      await expectNone(page.getByRole("button", { name }), `the ${name} button`);
    }
    await t.shot("viewer-environment");
    await t.accessible("an environment as a viewer");
    await nav.getByRole("link", { name: "Repositories" }).click();
    await expectNone(page.getByRole("link", { name: "Add repository" }), "the add button");
    await page.locator("tbody tr").first().getByRole("link").first().click();
    await page.getByRole("region", { name: "Webhooks" }).waitFor();
    for (const name of ["Check now", "Pause", "Delete", "Show webhook secret"]) {
      await expectNone(page.getByRole("button", { name }), `the ${name} button`);
    }
    await page.getByText("Only admins can read the webhook secret.").waitFor();
    await t.goto("/environments/new");
    await page.getByText("Not allowed").waitFor();
  });

  await t.step("sign out", async () => {
    await page.getByRole("button", { name: new RegExp(viewer) }).click();
    await page.getByRole("menuitem", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
  });

  await t.step("an ended session returns to sign-in, then to the same filtered page", async () => {
    await t.login(config.adminUser, config.adminPassword);
    await t.goto("/environments?status=up&q=e2e");
    await page.locator("tbody tr").first().waitFor();
    // End the session on the server behind the dashboard's back, as an expiry or a revocation would.
    const status = await page.evaluate(async () => {
      const raw = localStorage.getItem("berth.session");
      const token = raw ? JSON.parse(raw).token : "";
      const res = await fetch("/api/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${token}` } });
      return res.status;
    });
    if (status !== 204) throw new Error(`logout answered ${status}`);
    await page.getByLabel("Status", { exact: true }).selectOption("down");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.getByText("Your session has ended", { exact: false }).waitFor();
    await t.shot("session-ended");
    await t.accessible("the sign-in page after a session ended");
    await page.getByLabel("Username", { exact: true }).fill(config.adminUser);
    await page.getByLabel("Password", { exact: true }).fill(config.adminPassword);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Environments" }).waitFor();
    const url = new URL(page.url());
    if (url.pathname !== "/environments" || url.searchParams.get("q") !== "e2e") throw new Error(`did not come back to the filtered list: ${page.url()}`);
  });
});
