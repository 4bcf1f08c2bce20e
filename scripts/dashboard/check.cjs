// The dashboard in a real browser (headless Chromium driven by playwright-core), against real
// `snowdrift serve` processes on loopback. Run by scripts/check-dashboard, which installs what
// is missing and passes:
//   SNOWDRIFT_BIN    the snowdrift binary
//   PLAYWRIGHT_DIR   the directory whose node_modules holds playwright-core
//   CHROMIUM         the browser (default /usr/bin/chromium)
// It checks, on one node with the discord layout: the status shows (ready, slot, layout and
// the date it runs out, window headroom), IDs/s and the issued count follow /metrics, a pasted
// published Discord ID decodes to its known date, a bad ID shows the error, and a token given
// in the page goes out as `Authorization: Bearer` and stops when forgotten. Then, with an etcd
// started here and three nodes sharing it, that the slot map lists every node. A watchdog
// bounds the whole run; every process started here is stopped however the run ends.
"use strict";

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

const { chromium } = require(path.join(process.env.PLAYWRIGHT_DIR, "node_modules", "playwright-core"));

const BIN = process.env.SNOWDRIFT_BIN;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const WATCHDOG_MS = 240_000;
const WAIT_MS = 20_000;
// A published Discord ID and its creation time (Discord's own documentation example).
const DISCORD_ID = "175928847299117063";
const DISCORD_TIME = "2016-04-30T11:18:25.796Z";

// The node refuses SNOWDRIFT_* variables it does not know (SNOWDRIFT_BIN among them), and
// must not pick up the caller's settings: it gets the environment without them.
const NODE_ENV = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("SNOWDRIFT_")));

const children = [];
const work = fs.mkdtempSync(path.join(os.tmpdir(), "snowdrift-dashboard-"));
let browser = null;
let passed = 0;

function stopAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  fs.rmSync(work, { recursive: true, force: true });
}
// The children's pipes keep the event loop alive, so every way out goes through process.exit,
// and the exit handler stops them; a signal from outside (the caller's timeout) does too.
process.on("exit", stopAll);
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) {
  process.on(signal, () => {
    console.error(`check-dashboard: FAILED: stopped by ${signal}`);
    process.exit(1);
  });
}
setTimeout(() => {
  console.error(`check-dashboard: FAILED: still running after ${WATCHDOG_MS / 1000} s`);
  process.exit(1);
}, WATCHDOG_MS).unref();

function check(condition, what) {
  if (!condition) throw new Error("check failed: " + what);
  passed += 1;
  console.log("  ok: " + what);
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function until(what, probe, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}

// Starts `snowdrift serve` with `args`; resolves to {child, url} once it prints its address.
function startNode(name, args) {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  const log = fs.openSync(path.join(dir, "stderr.log"), "w");
  const child = spawn(BIN, ["serve", "--http", "127.0.0.1:0", "--data-dir", path.join(dir, "data"), ...args],
    { stdio: ["ignore", "pipe", log], env: NODE_ENV });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${name}: no listening line; log:\n${tail(dir)}`)), WAIT_MS);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /^listening .*http=([0-9.:]+)/m.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: `http://${match[1]}` });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before listening; log:\n${tail(dir)}`));
    });
  });
}

function tail(dir) {
  try { return fs.readFileSync(path.join(dir, "stderr.log"), "utf8").split("\n").slice(-20).join("\n"); } catch (_) { return ""; }
}

async function startEtcd() {
  const [client, peer] = [await freePort(), await freePort()];
  const dir = path.join(work, "etcd");
  fs.mkdirSync(dir);
  const log = fs.openSync(path.join(dir, "etcd.log"), "w");
  const clientUrl = `http://127.0.0.1:${client}`, peerUrl = `http://127.0.0.1:${peer}`;
  const child = spawn("etcd", [
    "--name=snowdrift-dashboard", `--data-dir=${path.join(dir, "data")}`,
    `--listen-client-urls=${clientUrl}`, `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=snowdrift-dashboard=${peerUrl}`, "--logger=zap", "--log-outputs=stderr",
  ], { stdio: ["ignore", log, log] });
  children.push(child);
  await until("etcd to be healthy", async () => (await fetch(clientUrl + "/health")).ok);
  return clientUrl;
}

// Fails the run on any script error or console error in the page (a CSP refusal included),
// except Chromium's note on each 4xx answer: the page asks for errors on purpose (a bad ID,
// /v1/cluster on a node without one).
function watchPage(page, problems) {
  page.on("pageerror", (err) => problems.push("page error: " + err.message));
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())) return;
    problems.push("console: " + msg.text());
  });
}

const text = (page, selector) => page.locator(selector).innerText();

async function singleNode() {
  console.log("== one node, discord layout");
  const node = await startNode("single", ["--layout", "discord"]);
  const info = await (await fetch(node.url + "/v1/info")).json();
  const page = await browser.newPage();
  const problems = [];
  watchPage(page, problems);
  await page.goto(node.url + "/");

  await page.locator("#ready", { hasText: /^ready$/ }).waitFor({ timeout: WAIT_MS });
  check(true, "the status shows ready");
  check(await text(page, "#slot") === "datacenter 0, machine 0", "the slot shows");
  check(await text(page, "#layout-name") === "discord", "the layout's name shows");
  check(await text(page, "#layout-ends") === info.layout.ends, `the date the layout runs out shows (${info.layout.ends})`);
  check(/ (ms|s)$/.test(await text(page, "#headroom")), "the window headroom shows");
  check((await text(page, "#clock")).startsWith(new Date().toISOString().slice(0, 10)), "the clock shows today");

  for (let i = 0; i < 3; i += 1) {
    const answer = await fetch(node.url + "/v1/ids?count=1000");
    check(answer.status === 200, "1000 IDs issued over HTTP");
  }
  await until("the issued count to reach 3,000", async () => Number((await text(page, "#issued")).replace(/,/g, "")) >= 3000);
  check(true, "the issued count follows /metrics");
  await until("an IDs/s figure", async () => /^[0-9,]+$/.test(await text(page, "#rate")));
  check(true, "IDs/s shows a number");

  check(await page.locator("#decode-result").isHidden(), "no decoded fields show before an ID is given");
  // Paste the ID as a user would: a paste event carrying the text.
  await page.locator("#decode-input").evaluate((input, id) => {
    const data = new DataTransfer();
    data.setData("text/plain", id);
    input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }, DISCORD_ID);
  await page.locator("#decode-time", { hasText: DISCORD_TIME }).waitFor({ timeout: WAIT_MS });
  check(true, `the pasted Discord ID ${DISCORD_ID} decodes to ${DISCORD_TIME}`);
  check(await text(page, "#decode-sequence") === "7", "its sequence is 7");
  const base62 = await text(page, "#decode-base62");
  await page.fill("#decode-input", base62);
  await page.press("#decode-input", "Enter");
  await page.locator("#decode-decimal", { hasText: DISCORD_ID }).waitFor({ timeout: WAIT_MS });
  check(await text(page, "#decode-time") === DISCORD_TIME, `its base62 form ${base62} decodes to the same time`);
  await page.fill("#decode-input", "not an id!");
  await page.press("#decode-input", "Enter");
  await page.locator("#decode-error", { hasText: "invalid_id" }).waitFor({ timeout: WAIT_MS });
  check(true, "a string that is not an ID shows the node's error");
  check(await page.locator("#decode-result").isHidden(), "and the last ID's fields no longer show");

  await page.locator("#cluster-note", { hasText: "local backend" }).waitFor({ timeout: WAIT_MS });
  check(true, "the cluster panel says the node has no cluster");

  // The token: sent as a bearer token once given, and no longer once forgotten.
  await page.fill("#token", "s3cret-token");
  const withToken = page.waitForRequest((r) => r.url().endsWith("/v1/info") && r.headers()["authorization"] === "Bearer s3cret-token", { timeout: WAIT_MS });
  await page.click("#token-form button[type=submit]");
  await withToken;
  check(true, "a token given in the page goes out as Authorization: Bearer");
  check(await page.evaluate(() => sessionStorage.getItem("snowdrift.token")) === "s3cret-token", "the token is kept in sessionStorage");
  check(await page.inputValue("#token") === "", "the token field is cleared after use");
  const withoutToken = page.waitForRequest((r) => r.url().endsWith("/v1/info") && !("authorization" in r.headers()), { timeout: WAIT_MS });
  await page.click("#token-clear");
  await withoutToken;
  check(true, "a forgotten token is no longer sent");

  check(problems.length === 0, "no script or console error in the page" + (problems.length ? ": " + problems.join("; ") : ""));
  await page.close();
  node.child.kill("SIGTERM");
}

async function cluster() {
  console.log("== three nodes sharing one etcd");
  const endpoint = await startEtcd();
  const args = ["--coordinator", "etcd", "--etcd-endpoints", endpoint, "--cluster", "dashboard",
    "--datacenter-id", "0", "--machine-id", "auto"];
  const nodes = [];
  // One after the other: `auto` claims the first free slot, and each claim is a transaction.
  for (const name of ["a", "b", "c"]) nodes.push(await startNode(name, args));
  const page = await browser.newPage();
  const problems = [];
  watchPage(page, problems);
  await page.goto(nodes[0].url + "/");
  const pids = nodes.map((n) => n.child.pid);
  const rows = await until("the slot map to list three held slots", async () => {
    const found = await page.locator("#cluster-rows tr").evaluateAll((trs) =>
      trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    return found.length === 3 && found.every((cells) => cells[2] === "held") ? found : null;
  });
  for (const pid of pids) {
    check(rows.some((cells) => cells[3].startsWith(`pid ${pid} on `)), `the slot map lists the node with pid ${pid}`);
  }
  const machines = rows.map((cells) => cells[1]).sort();
  check(JSON.stringify(machines) === JSON.stringify(["0", "1", "2"]), "each node holds its own machine slot (0, 1, 2)");
  check(rows.every((cells) => /^\d+ s$/.test(cells[6]) && cells[7] !== "–"), "every slot shows its lease TTL and mark");
  // Lease IDs pass 2^53: the page must show each exactly, not a rounded number shared by
  // several leases. Each node names its own lease, in hex, in its slot location.
  for (const node of nodes) {
    const info = await (await fetch(node.url + "/v1/info")).json();
    const lease = /lease ([0-9a-f]+)/.exec(info.coordination.slot_location)[1];
    const row = rows.find((cells) => cells[1] === String(info.machine));
    check(row && row[5] === lease, `machine ${info.machine} shows its own lease ${lease} (page: ${row && row[5]})`);
  }
  check((await text(page, "#cluster-note")).includes("3 slot(s) held"), "the summary counts three held slots");
  // For a person to look at: DASHBOARD_SCREENSHOT=/tmp/dashboard.png scripts/check-dashboard
  if (process.env.DASHBOARD_SCREENSHOT) await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT, fullPage: true });
  check(problems.length === 0, "no script or console error in the page" + (problems.length ? ": " + problems.join("; ") : ""));
  await page.close();
}

(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-background-networking"],
  });
  try {
    await singleNode();
    await cluster();
  } finally {
    await browser.close();
  }
  console.log(`check-dashboard: ${passed} passed, 0 failed`);
  process.exit(0);
})().catch((err) => {
  console.error("check-dashboard: FAILED: " + (err && err.stack ? err.stack : err));
  console.error(`check-dashboard: ${passed} passed, 1 failed`);
  process.exit(1);
});
