// The dashboard's behaviour: polls /v1/info, /metrics and /v1/cluster every two seconds, and
// decodes IDs through /v1/decode/{id}. URLs are relative, so the page works behind TLS and a
// path prefix alike; a bearer token, when the user gives one, is kept in sessionStorage (gone
// with the tab) and sent with every request. Values from the node are written with
// textContent only, never as HTML: a holder's host name comes from etcd, not from us.
"use strict";

const POLL_MS = 2000;
const TOKEN_KEY = "snowdrift.token";
const $ = (id) => document.getElementById(id);

function token() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (_) { return ""; }
}

// A GET with the token, if any. Resolves to {status, body}: body is parsed JSON when the
// answer is JSON, else text. Rejects only when the node cannot be reached.
async function get(path) {
  const headers = {};
  const t = token();
  if (t) headers["Authorization"] = "Bearer " + t;
  const response = await fetch(path, { headers, cache: "no-store" });
  const type = response.headers.get("content-type") || "";
  const body = type.startsWith("application/json") ? parse(await response.text()) : await response.text();
  return { status: response.status, body };
}

// JSON with integers past 2^53 (etcd lease IDs) kept exact, as BigInt, where the browser gives
// a reviver the number's source text; elsewhere such a number becomes null and shows as "–",
// rather than as a rounded value that names another lease.
function parse(text) {
  return JSON.parse(text, (key, value, context) => {
    if (typeof value !== "number" || Number.isSafeInteger(value) || !Number.isInteger(value)) return value;
    return context && typeof context.source === "string" ? BigInt(context.source) : null;
  });
}

const present = (value) => value !== null && value !== undefined;

function set(id, text) { $(id).textContent = text; }

// `{"error":{"code","message"}}` as one line, or the status alone.
function describeError(answer) {
  const e = answer.body && answer.body.error;
  return e ? `${e.message} (${e.code}, HTTP ${answer.status})` : `HTTP ${answer.status}`;
}

function banner(text) {
  const el = $("banner");
  el.hidden = !text;
  el.textContent = text || "";
}

function ms(value) {
  if (value === null || value === undefined) return "–";
  if (Math.abs(value) >= 1000) return (value / 1000).toFixed(1) + " s";
  return value + " ms";
}

function duration(seconds) {
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds / 3600) % 24;
  const m = Math.floor(seconds / 60) % 60, s = seconds % 60;
  return (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") + s + "s";
}

function showInfo(info) {
  set("version", "v" + info.version);
  const ready = $("ready");
  ready.textContent = info.ready ? "ready" : "not ready";
  ready.className = info.ready ? "ready" : "not-ready";
  const why = info.coordination && info.coordination.not_ready;
  $("not-ready").hidden = !why;
  $("not-ready").textContent = why ? `${why.detail} (${why.reason})` : "";
  set("slot", `datacenter ${info.datacenter}, machine ${info.machine}`);
  const c = info.coordination || {};
  set("backend", c.backend ? `${c.backend}: ${c.slot_location}` : "–");
  set("headroom", ms(info.clock.ceiling_headroom_ms));
  set("clock", `${info.clock.now} (tick ${info.clock.tick})`);
  set("lead", ms(info.clock.lead_ms));
  set("offset", ms(info.clock.wall_offset_ms));
  set("uptime", duration(info.uptime_seconds));
  const l = info.layout;
  set("layout-name", l.name);
  set("layout-bits", `${l.timestamp_bits} time / ${l.datacenter_bits} datacenter / ` +
    `${l.machine_bits} machine / ${l.sequence_bits} sequence, tick ${l.unit_ms} ms`);
  set("layout-epoch", l.epoch);
  set("layout-capacity", `${l.datacenters} × ${l.machines_per_datacenter} workers, ` +
    `${l.ids_per_second_per_worker.toLocaleString("en")} IDs/s each`);
  set("layout-ends", l.ends);
}

// The sum of a counter over its label sets, from Prometheus text.
function counter(text, name) {
  let total = 0, seen = false;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== " " && rest[0] !== "{") continue;
    const value = Number(line.trim().split(/\s+/).pop());
    if (Number.isFinite(value)) { total += value; seen = true; }
  }
  return seen ? total : 0;
}

let lastIssued = null;
function showRate(text) {
  const issued = counter(text, "snowdrift_ids_issued_total");
  const now = performance.now();
  if (lastIssued) {
    const perSecond = (issued - lastIssued.value) / ((now - lastIssued.at) / 1000);
    set("rate", Math.max(0, Math.round(perSecond)).toLocaleString("en"));
  }
  set("issued", issued.toLocaleString("en"));
  lastIssued = { value: issued, at: now };
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
}

function showCluster(answer) {
  const table = $("cluster-table"), rows = $("cluster-rows"), warnings = $("cluster-warnings");
  if (answer.status === 404 && answer.body.error && answer.body.error.code === "no_cluster") {
    set("cluster-note", "This node uses the local backend: no cluster.");
    table.hidden = true;
    return;
  }
  if (answer.status !== 200) {
    set("cluster-note", "Cannot read the cluster: " + describeError(answer));
    return;
  }
  const status = answer.body;
  // A held slot has a lease: its ID is a number, or null when this browser could not keep it exact.
  const isHeld = (s) => "lease_id" in s && (present(s.lease_id) || present(s.lease_ttl_seconds));
  const held = status.slots.filter(isHeld).length;
  set("cluster-note", `cluster "${status.cluster}": ${held} slot(s) held, ${status.slots.length} known` +
    (status.layout ? `; layout ${status.layout}` : ""));
  warnings.replaceChildren(...status.warnings.map((w) => {
    const li = document.createElement("li");
    li.textContent = w;
    return li;
  }));
  rows.replaceChildren(...status.slots.map((s) => {
    const row = document.createElement("tr");
    row.dataset.slot = `${s.datacenter}/${s.machine}`;
    const leased = isHeld(s);
    cell(row, s.datacenter);
    cell(row, s.machine);
    cell(row, leased ? "held" : "free");
    cell(row, s.holder ? `pid ${s.holder.pid} on ${s.holder.host}` : (s.holder_raw || "–"));
    cell(row, s.holder && s.holder.addresses.length ? s.holder.addresses.join(" ") : "–");
    cell(row, present(s.lease_id) ? s.lease_id.toString(16) : "–");
    cell(row, present(s.lease_ttl_seconds) ? s.lease_ttl_seconds + " s" : "–");
    const mark = present(s.high_water_unix_ms)
      ? `${s.high_water_tick} (${new Date(s.high_water_unix_ms).toISOString()})`
      : (s.high_water_error ? "unreadable: " + s.high_water_error : (s.high_water_tick ?? "–"));
    cell(row, mark);
    return row;
  }));
  table.hidden = false;
}

async function poll() {
  try {
    const [info, metrics, cluster] = await Promise.all([get("v1/info"), get("metrics"), get("v1/cluster")]);
    if (info.status === 401 || info.status === 403) {
      banner("The node wants a token: " + describeError(info));
      return;
    }
    if (info.status !== 200) { banner("/v1/info: " + describeError(info)); return; }
    banner("");
    showInfo(info.body);
    if (metrics.status === 200 && typeof metrics.body === "string") showRate(metrics.body);
    showCluster(cluster);
  } catch (err) {
    banner("Cannot reach the node: " + err);
    const ready = $("ready");
    ready.textContent = "unreachable";
    ready.className = "not-ready";
  }
}

async function decode(text) {
  const id = text.trim();
  if (!id) return;
  const error = $("decode-error"), result = $("decode-result");
  try {
    const answer = await get("v1/decode/" + encodeURIComponent(id));
    if (answer.status !== 200) {
      error.textContent = describeError(answer);
      error.hidden = false;
      result.hidden = true;
      return;
    }
    const d = answer.body;
    set("decode-time", d.time);
    set("decode-unix", d.unix_ms);
    set("decode-datacenter", d.datacenter);
    set("decode-machine", d.machine);
    set("decode-sequence", d.sequence);
    set("decode-decimal", d.id);
    set("decode-base32", d.base32);
    set("decode-base62", d.base62);
    set("decode-hex", d.hex);
    error.hidden = true;
    result.hidden = false;
  } catch (err) {
    error.textContent = "Cannot reach the node: " + err;
    error.hidden = false;
  }
}

$("decode-form").addEventListener("submit", (event) => {
  event.preventDefault();
  decode($("decode-input").value);
});
// A pasted ID decodes at once, without pressing the button.
$("decode-input").addEventListener("paste", (event) => {
  const text = (event.clipboardData || window.clipboardData).getData("text");
  if (text) { event.preventDefault(); $("decode-input").value = text.trim(); decode(text); }
});
$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  try { sessionStorage.setItem(TOKEN_KEY, $("token").value); } catch (_) { /* storage off */ }
  $("token").value = "";
  poll();
});
$("token-clear").addEventListener("click", () => {
  try { sessionStorage.removeItem(TOKEN_KEY); } catch (_) { /* storage off */ }
  poll();
});

poll();
setInterval(poll, POLL_MS);
