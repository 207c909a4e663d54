// Admin adds a repository served by a git daemon with an interval schedule (seeing the next run
// times first), checks it now and reads the result, then finds the webhook set-up. Needs
// BERTH_GIT_URL (a git:// URL of a repository with at least one commit).
import { need, scenario, config, waitForCount } from "./lib/harness.mjs";

const gitUrl = need("BERTH_GIT_URL");

await scenario("repositories", async (t) => {
  const { page } = t;

  await t.step("log in as admin", async () => {
    await t.login(config.adminUser, config.adminPassword);
  });

  await t.step("fill in the repository and see the next run times", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Repositories" }).click();
    await page.getByRole("link", { name: "Add repository" }).click();
    await page.getByLabel("Name", { exact: true }).fill("manifests");
    await page.getByLabel("URL", { exact: true }).fill(gitUrl);
    await page.getByText("git:// is not encrypted", { exact: false }).waitFor();
    await page.getByRole("radio", { name: "Cron" }).check();
    await page.getByLabel("Cron expression", { exact: true }).fill("* * *");
    await page.locator(".field-error").filter({ hasText: "expected 5 or 6 fields" }).waitFor();
    await page.getByLabel("Cron expression", { exact: true }).fill("0 9 * * 1-5");
    await page.getByLabel("Time zone", { exact: true }).fill("Europe/Paris");
    await waitForCount(page.getByRole("list", { name: "Next checks" }).getByRole("listitem"), 5);
    await page.getByRole("radio", { name: "Every…" }).check();
    await page.getByLabel("Interval", { exact: true }).fill("10s");
    await page.locator(".field-error").filter({ hasText: "must be at least" }).waitFor();
    await page.getByLabel("Interval", { exact: true }).fill("2m");
    const runs = page.getByRole("list", { name: "Next checks" }).getByRole("listitem");
    await waitForCount(runs, 5);
    await page.getByText(/^\(in [34] minutes\)$/).waitFor();
    await t.shot("repository-form");
    await t.accessible("the repository form");
  });

  await t.step("add it: the connection is tested and it is saved", async () => {
    await page.getByRole("button", { name: "Add repository" }).click();
    await page.getByRole("heading", { name: "manifests" }).waitFor();
    await page.getByText("Added manifests.").waitFor();
    await page.getByText(/Unencrypted git:\/\//).first().waitFor();
    await page.getByText("Every 2m").waitFor();
  });

  await t.step("check now and read the result", async () => {
    await page.getByRole("button", { name: "Check now" }).click();
    await page.getByText(/^Check finished: unchanged — \d+ refs? listed/).waitFor({ timeout: 30_000 });
    const history = page.getByRole("region", { name: "Check history" });
    await history.getByText("manual").waitFor();
    await history.getByText("Unchanged").waitFor();
    await page.getByRole("region", { name: "Health" }).getByText("Unchanged").waitFor();
    await t.shot("repository-detail");
    await t.accessible("a repository");
  });

  await t.step("the webhook set-up per provider", async () => {
    const url = page.getByLabel("Webhook URL", { exact: true });
    if ((await url.inputValue()) !== `${config.url}/api/v1/webhooks/github`) throw new Error(`unexpected webhook URL ${await url.inputValue()}`);
    await page.getByRole("tab", { name: "GitLab" }).click();
    if (!(await url.inputValue()).endsWith("/api/v1/webhooks/gitlab")) throw new Error("the GitLab URL is not shown");
    const secret = page.getByLabel("Webhook secret", { exact: true });
    if ((await secret.inputValue()).length < 32) throw new Error("the webhook secret shown after creation is too short");
  });

  await t.step("the list shows its health", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Repositories" }).click();
    const row = page.locator("tbody tr").filter({ hasText: "manifests" });
    await row.getByText("Unchanged").waitFor();
    await row.getByText("Every 2m").waitFor();
    await page.getByLabel("Health", { exact: true }).selectOption("failing");
    await page.getByText("No repositories match").waitFor();
    await page.getByLabel("Health", { exact: true }).selectOption("");
    await row.waitFor();
    await t.shot("repositories");
    await t.accessible("the repository list");
  });
});
