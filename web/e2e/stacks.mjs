// Admin creates a stack in the UI over a repository served by a git daemon and an environment the
// harness registered, deploys it by hand and watches the rollout, reads the per-object results,
// turns auto-deploy on, has the repository changed (the Rust side commits when asked through a
// file) and sees the new rollout follow the check, previews an earlier commit with its diff, and
// rolls back. Needs:
//   BERTH_GIT_URL         the repository (deploy/config.yaml holds ConfigMap `app`)
//   BERTH_NAMESPACE       a namespace of the environment's cluster for the stack's objects
//   BERTH_ENVIRONMENT     the registered environment's name (tagged env=e2e)
//   BERTH_FIRST_COMMIT    the repository's commit at the start
//   BERTH_PUSH_REQUEST    a file this script creates to ask for a new commit
//   BERTH_PUSH_DONE       the file the Rust side then writes the new commit's id to
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { config, need, scenario, waitForCount } from "./lib/harness.mjs";

const gitUrl = need("BERTH_GIT_URL");
const namespace = need("BERTH_NAMESPACE");
const environment = need("BERTH_ENVIRONMENT");
const firstCommit = need("BERTH_FIRST_COMMIT");
const pushRequest = need("BERTH_PUSH_REQUEST");
const pushDone = need("BERTH_PUSH_DONE");

const short = (sha) => sha.slice(0, 10);

async function newCommit() {
  writeFileSync(pushRequest, "push");
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (existsSync(pushDone)) {
      const sha = readFileSync(pushDone, "utf8").trim();
      if (/^[0-9a-f]{40}$/.test(sha)) return sha;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the test did not push a new commit within 30 s");
}

await scenario("stacks", async (t) => {
  const { page } = t;
  const nav = () => page.getByRole("navigation", { name: "Main" });

  await t.step("log in as admin and add the repository", async () => {
    await t.login(config.adminUser, config.adminPassword);
    await nav().getByRole("link", { name: "Repositories" }).click();
    await page.getByRole("link", { name: "Add repository" }).click();
    await page.getByLabel("Name", { exact: true }).fill("manifests");
    await page.getByLabel("URL", { exact: true }).fill(gitUrl);
    await page.getByRole("button", { name: "Add repository" }).click();
    await page.getByText("Added manifests.").waitFor();
  });

  await t.step("fill in a stack: repository by search, selector with its live preview", async () => {
    await nav().getByRole("link", { name: "Stacks" }).click();
    await page.getByText("No stacks yet").waitFor();
    await page.getByRole("link", { name: "New stack" }).click();
    await page.getByLabel("Name", { exact: true }).fill("shop");
    await page.getByLabel("Find a repository", { exact: true }).fill("mani");
    await page.getByText("1 repository matches.").waitFor();
    await page.getByLabel("Repository", { exact: true }).selectOption({ label: `manifests — ${gitUrl}` });
    await page.getByLabel("Paths", { exact: true }).fill("deploy");
    await page.getByLabel("Tag selector", { exact: true }).fill("env in (");
    await page.locator(".field-error").filter({ hasText: "selector" }).waitFor();
    await page.getByLabel("Tag selector", { exact: true }).fill("env=e2e");
    const matches = page.getByRole("list", { name: "Environments matching the selector" });
    await matches.getByText(environment, { exact: true }).waitFor();
    await page.getByLabel("Default namespace", { exact: true }).fill(namespace);
    await page.getByRole("checkbox", { name: /Auto-deploy/ }).uncheck();
    await page.getByRole("checkbox", { name: /Wait for health/ }).uncheck();
    await t.shot("stack-form");
    await t.accessible("the stack form");
  });

  await t.step("create it: it targets the environment and waits to be deployed", async () => {
    await page.getByRole("button", { name: "Create stack" }).click();
    await page.getByRole("heading", { name: "shop" }).waitFor();
    await page.getByText("Created shop.").waitFor();
    const row = page.locator("tbody tr").filter({ hasText: environment });
    // The repository check that creation asks for finds the commit; without auto-deploy it waits.
    await row.getByText("Out of date", { exact: true }).waitFor({ timeout: 30_000 });
  });

  await t.step("deploy now and watch the rollout finish", async () => {
    await page.getByRole("button", { name: "Deploy…" }).click();
    const dialog = page.getByRole("dialog", { name: "Deploy shop" });
    await dialog.getByRole("button", { name: "Deploy" }).click();
    await page.getByRole("heading", { name: "Rollout of shop" }).waitFor();
    await page.getByText("Deploying shop.").waitFor();
    await page.getByRole("region", { name: "Rollout" }).getByText("Succeeded", { exact: true }).waitFor({ timeout: 30_000 });
    await page.getByText("1 of 1 deployments finished: 1 succeeded, 0 failed").waitFor();
    await page.getByRole("region", { name: "Rollout" }).getByText(firstCommit).waitFor();
    await t.shot("rollout");
    await t.accessible("a rollout");
  });

  await t.step("read the per-object results of the deployment", async () => {
    await page.getByRole("region", { name: "Deployments" }).getByRole("link", { name: environment }).click();
    await page.getByRole("heading", { name: `shop in ${environment}` }).waitFor();
    const objects = page.getByRole("table", { name: /Per-object results/ });
    const row = objects.locator("tbody tr").filter({ hasText: "ConfigMap" });
    await row.getByText("app", { exact: true }).waitFor();
    await row.getByText(namespace, { exact: true }).waitFor();
    await row.getByText("created", { exact: true }).waitFor();
    await page.getByLabel("Action", { exact: true }).selectOption("failed");
    await page.getByText("No objects match").waitFor();
    await page.getByLabel("Action", { exact: true }).selectOption("created");
    await row.waitFor();
    await t.shot("deployment");
    await t.accessible("a deployment");
  });

  await t.step("turn auto-deploy on", async () => {
    await page.getByRole("link", { name: "shop", exact: true }).first().click();
    await page.getByRole("heading", { name: "shop" }).waitFor();
    await page.locator("tbody tr").filter({ hasText: environment }).getByText("In sync", { exact: true }).waitFor();
    await page.getByRole("link", { name: "Edit" }).click();
    await page.getByRole("checkbox", { name: /Auto-deploy/ }).check();
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Saved shop.").waitFor();
  });

  let second;
  await t.step("change the repository: the check starts a new rollout", async () => {
    second = await newCommit();
    await nav().getByRole("link", { name: "Repositories" }).click();
    await page.getByRole("link", { name: "manifests" }).click();
    await page.getByRole("button", { name: "Check now" }).click();
    await page.getByText(/^Check finished: changed/).waitFor({ timeout: 30_000 });
    await nav().getByRole("link", { name: "Stacks" }).click();
    await page.getByRole("link", { name: "shop" }).click();
    await page.getByRole("tab", { name: "History" }).click();
    const rows = page.getByRole("tabpanel").locator("tbody tr");
    await waitForCount(rows, 2, 30_000);
    const latest = rows.first();
    await latest.getByText(short(second)).first().waitFor();
    await latest.getByText("Succeeded", { exact: true }).waitFor({ timeout: 30_000 });
    await page.getByRole("tab", { name: /Targets/ }).click();
    const target = page.locator("tbody tr").filter({ hasText: environment });
    await target.getByText("In sync", { exact: true }).waitFor();
    await target.getByText(short(second)).first().waitFor();
    await t.shot("stack-detail");
    await t.accessible("a stack");
  });

  await t.step("preview the earlier commit: the ConfigMap would change back", async () => {
    await page.getByRole("link", { name: "Preview" }).click();
    await page.getByRole("heading", { name: "Preview shop" }).waitFor();
    await page.getByRole("region", { name: environment }).waitFor({ timeout: 30_000 });
    await page.getByLabel("Commit", { exact: true }).fill(firstCommit);
    await page.getByRole("button", { name: "Preview again" }).click();
    const env = page.getByRole("region", { name: environment });
    await env.getByRole("heading", { name: /^To change/ }).waitFor({ timeout: 30_000 });
    await env.getByText("0 to create · 1 to change · 0 to prune", { exact: false }).waitFor();
    await env.getByText(`ConfigMap ${namespace}/app`, { exact: true }).waitFor();
    await env.getByText("data.k", { exact: false }).waitFor();
    await env.getByText("- v2").waitFor();
    await env.getByText("+ v").waitFor();
    await t.shot("preview");
    await t.accessible("a preview");
  });

  await t.step("roll back to the first commit", async () => {
    await page.getByRole("link", { name: "shop", exact: true }).click();
    await page.getByRole("tab", { name: "History" }).click();
    await page.getByRole("button", { name: `Roll back to ${firstCommit.slice(0, 7)}` }).click();
    await page.getByRole("dialog", { name: "Roll back shop" }).getByRole("button", { name: "Roll back" }).click();
    await page.getByRole("heading", { name: "Rollout of shop" }).waitFor();
    await page.getByRole("region", { name: "Rollout" }).getByText("Rollback", { exact: true }).waitFor();
    await page.getByRole("region", { name: "Rollout" }).getByText("Succeeded", { exact: true }).waitFor({ timeout: 30_000 });
    await page.getByRole("link", { name: "shop", exact: true }).click();
    await page.getByText("Auto-deploy paused after rollback").waitFor();
    await page.locator("tbody tr").filter({ hasText: environment }).getByText(short(firstCommit)).first().waitFor();
  });

  await t.step("the stack list and the overview show it", async () => {
    await nav().getByRole("link", { name: "Stacks" }).click();
    const row = page.locator("tbody tr").filter({ hasText: "shop" });
    await row.getByText("Held after rollback").waitFor();
    // The rolled-back commit is older than the latest one: out of date, held.
    await row.getByText("1 out of date").waitFor();
    await t.shot("stacks");
    await t.accessible("the stack list");
    await nav().getByRole("link", { name: "Overview" }).click();
    await page.getByRole("region", { name: "Stacks" }).getByRole("link", { name: "1 Out of date" }).waitFor();
    await t.shot("overview");
  });

  await t.step("the stack pages in the dark theme", async () => {
    await page.getByRole("button", { name: "Switch to dark theme" }).click();
    await page.waitForFunction(() => document.documentElement.dataset.theme === "dark");
    await nav().getByRole("link", { name: "Stacks" }).click();
    await page.getByRole("link", { name: "shop" }).click();
    await page.getByText("Auto-deploy paused after rollback").waitFor();
    await t.shot("stack-detail-dark");
    await t.accessible("a stack, dark");
    await page.getByRole("tab", { name: "History" }).click();
    await page.getByRole("tabpanel").locator("tbody tr").first().getByRole("link").click();
    await page.getByRole("heading", { name: "Rollout of shop" }).waitFor();
    await page.getByRole("region", { name: "Rollout" }).getByText("Succeeded", { exact: true }).waitFor();
    await t.shot("rollout-dark");
    await t.accessible("a rollout, dark");
    await page.getByRole("link", { name: "shop", exact: true }).click();
    await page.getByRole("link", { name: "Preview" }).click();
    await page.getByRole("region", { name: environment }).waitFor({ timeout: 30_000 });
    await t.accessible("a preview, dark");
  });
});
