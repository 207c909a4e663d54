// Admin registers clusters from a kubeconfig (file chooser, then pasted text), sees them up, and
// filters the list by tag selector, status and name. Needs BERTH_KUBECONFIG_FILE (an admin
// kubeconfig of a reachable cluster).
import { readFileSync } from "node:fs";
import { config, need, scenario, waitForCount } from "./lib/harness.mjs";

const kubeconfigFile = need("BERTH_KUBECONFIG_FILE");

await scenario("environments", async (t) => {
  const { page } = t;

  await t.step("the login page", async () => {
    await t.goto("/");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await t.shot("login");
    await t.accessible("the login page");
  });

  await t.step("log in as admin and land on the overview", async () => {
    await t.login(config.adminUser, config.adminPassword);
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.getByRole("link", { name: "Register an environment" }).waitFor();
    await page.getByText("Live", { exact: true }).waitFor();
  });

  await t.step("register an environment by choosing the kubeconfig file", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Environments" }).click();
    await page.getByRole("link", { name: "Register environment" }).click();
    await page.getByRole("heading", { name: "Register an environment" }).waitFor();
    const chooser = page.waitForEvent("filechooser");
    await page.getByRole("button", { name: "Choose file…" }).click();
    await (await chooser).setFiles(kubeconfigFile);
    await page.getByText(/^Read from /).waitFor();
    await page.getByLabel("Name", { exact: true }).fill("e2e-prod");
    await page.getByLabel("Tags", { exact: true }).fill("env=prod, region=eu");
    await t.shot("register");
    await t.accessible("the register form");
    await page.getByRole("button", { name: "Register environment" }).click();
    await page.getByRole("heading", { name: "e2e-prod" }).waitFor();
    await page.getByText("Registered e2e-prod.").waitFor();
    await page.getByRole("region", { name: "Health" }).getByText("Up", { exact: true }).waitFor();
    await page.getByText("Cluster admin").waitFor();
    await t.shot("environment-detail");
    await t.accessible("an environment");
  });

  await t.step("register a second one from pasted text", async () => {
    await t.goto("/environments/new");
    await page.getByLabel("Kubeconfig", { exact: true }).fill(readFileSync(kubeconfigFile, "utf8"));
    await page.getByLabel("Name", { exact: true }).fill("e2e-dev");
    await page.getByLabel("Tags", { exact: true }).fill("env=dev");
    await page.getByRole("button", { name: "Register environment" }).click();
    await page.getByRole("heading", { name: "e2e-dev" }).waitFor();
  });

  await t.step("a taken name is refused at the name field", async () => {
    await t.goto("/environments/new");
    await page.getByLabel("Kubeconfig", { exact: true }).fill(readFileSync(kubeconfigFile, "utf8"));
    await page.getByLabel("Name", { exact: true }).fill("e2e-dev");
    await page.getByRole("button", { name: "Register environment" }).click();
    await page.locator(".field-error").filter({ hasText: "name is already taken" }).waitFor();
    const invalid = await page.getByLabel("Name", { exact: true }).getAttribute("aria-invalid");
    if (invalid !== "true") throw new Error("the name field is not marked invalid");
  });

  await t.step("filter the list by tag selector, status and name", async () => {
    await t.goto("/environments");
    const rows = page.locator("tbody tr");
    await waitForCount(rows, 2);
    await page.getByLabel("Tag selector", { exact: true }).fill("env=prod,region in (eu,us)");
    await waitForCount(rows, 1);
    await page.getByRole("link", { name: "e2e-prod" }).waitFor();
    await t.shot("environments-filtered");
    await page.getByLabel("Tag selector", { exact: true }).fill("env in (");
    await page.getByText("The tag selector is not valid").waitFor();
    await page.getByLabel("Tag selector", { exact: true }).fill("");
    await page.getByLabel("Status", { exact: true }).selectOption("down");
    await page.getByText("No environments match").waitFor();
    await page.getByLabel("Status", { exact: true }).selectOption("");
    await page.getByRole("searchbox", { name: "Search by name" }).fill("dev");
    await waitForCount(rows, 1);
    await page.getByRole("link", { name: "e2e-dev" }).waitFor();
    if (!page.url().includes("q=dev")) throw new Error(`filters are not in the URL: ${page.url()}`);
    await page.getByRole("searchbox", { name: "Search by name" }).fill("");
    await waitForCount(rows, 2);
    await t.shot("environments");
    await t.accessible("the environment list");
  });

  await t.step("a change made elsewhere shows up live, without a reload", async () => {
    const rows = page.locator("tbody tr");
    await waitForCount(rows, 2);
    const marker = await page.evaluate(() => {
      // A property that survives only as long as the page is not reloaded.
      window.__berthNoReload = true;
      return true;
    });
    // Another admin renames e2e-dev through the API; the list learns it from the event stream.
    const status = await page.evaluate(async () => {
      const raw = localStorage.getItem("berth.session");
      const token = raw ? JSON.parse(raw).token : "";
      const res = await fetch("/api/v1/environments/e2e-dev", {
        method: "PATCH",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ name: "e2e-staging" }),
      });
      return res.status;
    });
    if (status !== 200) throw new Error(`rename answered ${status}`);
    await page.getByRole("link", { name: "e2e-staging" }).waitFor();
    const same = await page.evaluate(() => window.__berthNoReload === true);
    if (!marker || !same) throw new Error("the page was reloaded");
  });

  await t.step("the overview counts both as up", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" }).click();
    await page.getByRole("link", { name: "2 Up" }).waitFor();
    await t.shot("overview");
    await t.accessible("the overview");
  });

  await t.step("the dark theme", async () => {
    await page.getByRole("button", { name: "Switch to dark theme" }).click();
    await page.waitForFunction(() => document.documentElement.dataset.theme === "dark");
    await t.shot("overview-dark");
    await t.accessible("the overview, dark");
    await t.goto("/environments");
    await page.getByRole("link", { name: "e2e-prod" }).waitFor();
    await t.shot("environments-dark");
    await t.accessible("the environment list, dark");
  });
});
