// Riffle local's dashboard: polls the control API's JSON (every second while the tab is
// visible, never while it is hidden) and draws mappings, charts, the journal, the failure
// queues and the logs. Plain DOM and SVG; nothing is loaded from elsewhere.
"use strict";

const state = {
  overview: null,
  series: [],
  journal: [],
  destinations: [],
  redrives: new Map(),
  journalMapping: null,
  filters: new Set(["all"]),
  tick: 0,
};

// ------------------------------------------------------------------------------------------
// Helpers

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, options) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const message = body && body.message ? body.message : `${response.status} ${response.statusText}`;
    throw new Error(message);
  }
  return body;
}

function post(path, body) {
  return api(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

function clock(ms) {
  return new Date(ms).toISOString().slice(11, 23);
}

function duration(ms) {
  if (ms === null || ms === undefined) return "–";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60000).toFixed(1)} min`;
}

function shortSeq(seq) {
  if (!seq) return "–";
  return seq.length > 14 ? `…${seq.slice(-10)}` : seq;
}

function sourceName(arn) {
  return arn.split(/[:/]/).pop();
}

// ------------------------------------------------------------------------------------------
// Mappings

function renderMappings() {
  const root = document.getElementById("mappings");
  const mappings = state.overview.mappings;
  if (mappings.length === 0) {
    root.replaceChildren(el("p", { class: "dim" }, "the template has no event source mappings"));
    return;
  }
  root.replaceChildren(...mappings.map(renderMapping));
}

function renderMapping(m) {
  const counters = m.counters || {};
  const cells = Object.entries(counters)
    .filter(([, v]) => typeof v !== "object" || v === null)
    .map(([key, value]) =>
      el("div", { class: "counter" },
        el("span", { class: "label" }, key.replaceAll("_", " ")),
        el("span", { class: "value", "data-counter": `${m.id}.${key}` }, value === null ? "–" : value)));
  const shards = Object.entries(m.shards || {});
  return el("article", { class: "mapping", "data-mapping": m.id },
    el("div", { class: "mapping-head" },
      el("strong", {}, m.id),
      el("span", { class: `badge state-${m.state}`, "data-state": m.state }, m.state),
      el("span", { class: "dim" }, `${m.kind} ${sourceName(m.event_source_arn)} → ${m.function}`)),
    el("div", { class: "counters" }, cells),
    shards.length === 0 ? null : el("table", { class: "shards" },
      el("thead", {}, el("tr", {}, ["shard", "state", "position", "checkpoint", "in flight",
        "buffered", "iterator age", "invocations", "errors", "retries", "on-failure",
        "last error"].map((h) => el("th", {}, h)))),
      el("tbody", {}, shards.map(([id, s]) => el("tr", { "data-shard": id },
        el("td", {}, id),
        el("td", {}, shardState(s)),
        el("td", { title: s.position || "" }, shortSeq(s.position)),
        el("td", { title: s.checkpoint || "" }, shortSeq(s.checkpoint)),
        el("td", {}, s.in_flight),
        el("td", {}, s.buffered),
        el("td", {}, duration(s.iterator_age_ms)),
        el("td", {}, s.invocations),
        el("td", {}, s.errors),
        el("td", {}, s.retries),
        el("td", {}, s.sent_to_destination),
        el("td", { class: "error" }, s.last_error ? `${clock(s.last_error[0])} ${s.last_error[1]}` : ""))))));
}

function shardState(s) {
  if (s.finished) return "finished";
  if (s.read_failing) return "read failing";
  if (s.retry_pending) return "retry pending";
  if (s.in_flight > 0) return "invoking";
  if (s.caught_up) return "caught up";
  return "reading";
}

// ------------------------------------------------------------------------------------------
// Charts

const COLORS = ["#2f7ed8", "#e4572e", "#17a673", "#a05ad6", "#f0a202", "#555"];

function lineChart(title, unit, lines) {
  const width = 360, height = 150, left = 44, bottom = 18, top = 8;
  const points = lines.flatMap((l) => l.points);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img" });
  chart.append(svg("title", {}, title));
  if (points.length === 0) {
    chart.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "axis" }, "no samples yet"));
    return el("figure", {}, chart, el("figcaption", {}, title));
  }
  const t0 = Math.min(...points.map((p) => p[0]));
  const t1 = Math.max(...points.map((p) => p[0]), t0 + 1000);
  const vmax = Math.max(1, ...points.map((p) => p[1]));
  const x = (t) => left + ((t - t0) / (t1 - t0)) * (width - left - 4);
  const y = (v) => top + (1 - v / vmax) * (height - top - bottom);
  chart.append(
    svg("line", { x1: left, y1: y(0), x2: width - 4, y2: y(0), class: "grid" }),
    svg("line", { x1: left, y1: y(vmax), x2: width - 4, y2: y(vmax), class: "grid" }),
    svg("text", { x: left - 4, y: y(vmax) + 4, "text-anchor": "end", class: "axis" }, formatValue(vmax, unit)),
    svg("text", { x: left - 4, y: y(0) + 4, "text-anchor": "end", class: "axis" }, "0"),
    svg("text", { x: left, y: height - 4, class: "axis" }, clock(t0).slice(0, 8)),
    svg("text", { x: width - 4, y: height - 4, "text-anchor": "end", class: "axis" }, clock(t1).slice(0, 8)));
  lines.forEach((line, i) => {
    if (line.points.length === 0) return;
    const d = line.points.map((p, j) => `${j ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
    chart.append(svg("path", { d, fill: "none", stroke: COLORS[i % COLORS.length], "stroke-width": 1.6 }));
  });
  const legend = el("div", { class: "legend" }, lines.map((line, i) =>
    el("span", {}, el("i", { style: `background:${COLORS[i % COLORS.length]}` }), line.name)));
  return el("figure", {}, chart, el("figcaption", {}, title), legend);
}

function formatValue(v, unit) {
  if (unit === "ms") return duration(Math.round(v));
  return v >= 100 ? Math.round(v) : Number(v.toFixed(1));
}

function rates(samples, id, key) {
  const out = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1].mappings.find((m) => m.id === id);
    const b = samples[i].mappings.find((m) => m.id === id);
    if (!a || !b) continue;
    const seconds = Math.max(0.001, (samples[i].at - samples[i - 1].at) / 1000);
    out.push([samples[i].at, Math.max(0, b[key] - a[key]) / seconds]);
  }
  return out;
}

function renderCharts() {
  const root = document.getElementById("charts");
  const samples = state.series;
  const rows = state.overview.mappings.map((m) => {
    const shards = new Set();
    for (const s of samples) {
      const mine = s.mappings.find((x) => x.id === m.id);
      for (const shard of Object.keys((mine && mine.iterator_age_ms) || {})) shards.add(shard);
    }
    const ages = [...shards].map((shard) => ({
      name: shard,
      points: samples.flatMap((s) => {
        const mine = s.mappings.find((x) => x.id === m.id);
        const age = mine && mine.iterator_age_ms ? mine.iterator_age_ms[shard] : undefined;
        return age === undefined ? [] : [[s.at, age]];
      }),
    }));
    const charts = [];
    if (m.kind === "kinesis") charts.push(lineChart("IteratorAge per shard", "ms", ages));
    charts.push(lineChart("records/s", "", [
      { name: m.kind === "kinesis" ? "in (read)" : "in (received)", points: rates(samples, m.id, "records_in") },
      { name: "invoked", points: rates(samples, m.id, "invoked") },
    ]));
    charts.push(lineChart("failures/s", "", [
      { name: "errors", points: rates(samples, m.id, "errors") },
      { name: "throttles", points: rates(samples, m.id, "throttles") },
      { name: m.kind === "kinesis" ? "on-failure" : "failed", points: rates(samples, m.id, "on_failure") },
    ]));
    return el("div", { class: "chart-row", "data-charts": m.id }, el("h3", {}, m.id), el("div", { class: "charts" }, charts));
  });
  root.replaceChildren(...rows);
}

// ------------------------------------------------------------------------------------------
// Journal

const FILTERS = {
  retries: (e) => e.kind === "retry_scheduled" || (e.kind === "invoked" && e.previous_invocations > 0),
  bisects: (e) => e.kind === "bisected",
  discards: (e) => e.kind === "discarded" || e.kind === "window_state_dropped",
  failures: (e) => ["failed", "partially_failed", "poll_failed", "delivery_error", "delivery_failed", "checkpoint_failed"].includes(e.kind)
    || (e.kind === "settled" && e.outcome !== "succeeded"),
  faults: (e) => e.kind === "fault_injected",
};

function shown(entry) {
  if (entry.kind === "polled") return false;
  if (state.filters.has("all")) return true;
  return [...state.filters].some((f) => FILTERS[f] && FILTERS[f](entry));
}

function batchOf(e) {
  if (e.first_sequence_number === undefined) return null;
  return `${shortSeq(e.first_sequence_number)} – ${shortSeq(e.last_sequence_number)}`;
}

function describe(e, lastBatch) {
  switch (e.kind) {
    case "invoked":
      return `batch ${batchOf(e) || "(empty window)"} · ${e.records} record(s) · lane ${e.lane}` +
        (e.previous_invocations ? ` · retry ${e.previous_invocations}` : "");
    case "failed":
      return [`function error: `, el("code", { class: "error" }, e.reason),
        ` · attempt ${e.attempts}`, lastBatch ? ` · batch ${lastBatch}` : ""];
    case "partially_failed":
      return `partial failure: resume at ${shortSeq(e.resume_at)} (${e.succeeded} succeeded)`;
    case "retry_scheduled":
      return `retry at ${clock(e.retry_at)}: ${e.reason}`;
    case "bisected":
      return `bisected into ${e.left} + ${e.right} record(s)`;
    case "discarded":
      return `${e.condition}: ${e.records} record(s) ${batchOf(e)} ${e.delivered ? "sent to the on-failure destination" : "dropped"}`;
    case "fault_injected":
      return [el("span", { class: "badge injected" }, "injected"), ` ${e.fault} by riffle fault ${e.rule} · request `,
        el("a", { href: "#logs-panel", class: "request", onclick: () => showRequest(e.request_id) }, e.request_id)];
    case "checkpointed":
      return `checkpoint ${shortSeq(e.sequence_number)}`;
    case "delivered":
      return `failure record sent to ${sourceName(e.destination)}`;
    case "succeeded":
      return `${e.records} record(s) done · lane ${e.lane}` + (lastBatch ? ` · batch ${lastBatch}` : "");
    case "settled":
      return `${e.outcome}: ${e.deleted} deleted, ${e.returned} returned` +
        (e.failed_message_ids ? ` (failed: ${e.failed_message_ids.join(", ")})` : "");
    default: {
      const rest = Object.entries(e).filter(([k]) => !["at", "time", "kind", "shard", "poller"].includes(k));
      return rest.map(([k, v]) => `${k} ${typeof v === "object" ? JSON.stringify(v) : v}`).join(" · ");
    }
  }
}

function renderJournal() {
  const root = document.getElementById("journal");
  const groups = new Map();
  const lastBatch = new Map();
  for (const e of state.journal) {
    const key = e.shard !== undefined ? e.shard : `poller ${e.poller}`;
    if (!groups.has(key)) groups.set(key, []);
    const laneKey = `${key}/${e.lane}`;
    if (e.kind === "invoked") lastBatch.set(laneKey, batchOf(e));
    if (shown(e)) groups.get(key).push(el("li", { class: `entry kind-${e.kind}`, "data-kind": e.kind },
      el("time", {}, clock(e.at)), el("span", { class: "kind" }, e.kind.replaceAll("_", " ")),
      el("span", { class: "detail" }, describe(e, lastBatch.get(laneKey)))));
  }
  if (groups.size === 0) {
    root.replaceChildren(el("p", { class: "dim" }, "nothing journaled yet"));
    return;
  }
  root.replaceChildren(...[...groups].map(([key, items]) =>
    el("div", { class: "timeline", "data-timeline": key }, el("h3", {}, key),
      el("ol", {}, items.reverse().slice(0, 150)))));
}

// ------------------------------------------------------------------------------------------
// Destinations

function renderDestinations() {
  const root = document.getElementById("destinations");
  if (state.destinations.length === 0) {
    root.replaceChildren(el("p", { class: "dim" }, "the template has no on-failure or dead-letter queue"));
    return;
  }
  root.replaceChildren(...state.destinations.map((d) => {
    const role = d.role === "on_failure" ? `on-failure queue of ${d.of}` : `dead-letter queue of ${d.of}`;
    const result = el("output", { class: "redrive-result" }, state.redrives.get(d.queue) || "");
    const say = (text) => { state.redrives.set(d.queue, text); result.textContent = text; };
    const button = el("button", {
      class: "redrive", disabled: d.total === 0 || !d.peekable,
      onclick: async () => {
        button.disabled = true;
        say("redriving…");
        try {
          const answer = await post("/_riffle/api/redrive", { queue: d.queue });
          say(`${answer.redriven} of ${answer.seen} redriven\n${answer.lines.join("\n")}`);
        } catch (error) {
          say(`redrive failed: ${error.message}`);
        }
        refreshDestinations();
      },
    }, "Redrive");
    return el("article", { class: "destination", "data-queue": d.queue },
      el("div", { class: "mapping-head" }, el("strong", {}, d.queue), el("span", { class: "dim" }, role),
        el("span", { class: "badge", "data-total": d.total }, `${d.total} message(s)`), button),
      d.error ? el("p", { class: "error" }, d.error) : null,
      el("ul", { class: "messages" }, d.messages.map((m) => el("li", { class: "message", "data-message": m.message_id },
        el("code", {}, m.message_id.slice(0, 8)), ` received ${m.receive_count}× · `,
        m.summary ? m.summary : el("code", {}, m.body.length > 160 ? `${m.body.slice(0, 160)}…` : m.body)))),
      result);
  }));
}

async function refreshDestinations() {
  try {
    state.destinations = await api("/_riffle/api/destinations");
    renderDestinations();
  } catch (error) {
    document.getElementById("destinations").replaceChildren(el("p", { class: "error" }, error.message));
  }
}

// ------------------------------------------------------------------------------------------
// Put form and logs

function fillSelect(select, options) {
  const now = [...select.options].map((o) => o.value).join("\n");
  if (now === options.map((o) => o[0]).join("\n")) return;
  const keep = select.value;
  select.replaceChildren(...options.map(([value, label]) => el("option", { value }, label)));
  if (options.some((o) => o[0] === keep)) select.value = keep;
}

function fillForms() {
  const o = state.overview;
  fillSelect(document.getElementById("put-target"), [
    ...o.streams.map((s) => [`stream:${s}`, `stream ${s}`]),
    ...o.queues.map((q) => [`queue:${q.name}`, `queue ${q.name}`]),
  ]);
  fillSelect(document.getElementById("journal-mapping"), o.mappings.map((m) => [m.id, m.id]));
  fillSelect(document.getElementById("logs-function"), o.functions.map((f) => [f.logical_id, f.name]));
  if (!state.journalMapping && o.mappings.length) state.journalMapping = o.mappings[0].id;
}

async function put(event) {
  event.preventDefault();
  const [kind, name] = document.getElementById("put-target").value.split(/:(.*)/s);
  const data = document.getElementById("put-data").value;
  const key = document.getElementById("put-key").value;
  const result = document.getElementById("put-result");
  const request = kind === "stream" ? { stream: name, partition_key: key, data } : { queue: name, data, group_id: key };
  try {
    const answer = await post("/_riffle/api/put", request);
    result.className = "ok";
    result.textContent = answer.sequence_number
      ? `put to ${answer.shard_id} as ${shortSeq(answer.sequence_number)}`
      : `sent as ${answer.message_id}`;
  } catch (error) {
    result.className = "error";
    result.textContent = error.message;
  }
}

function showRequest(id) {
  document.getElementById("logs-request").value = id;
  refreshLogs();
}

async function refreshLogs() {
  const fn = document.getElementById("logs-function").value;
  if (!fn) return;
  const request = document.getElementById("logs-request").value.trim();
  const query = `function=${encodeURIComponent(fn)}` + (request ? `&request_id=${encodeURIComponent(request)}` : "");
  const root = document.getElementById("logs");
  try {
    const lines = await api(`/_riffle/api/logs?${query}`);
    root.replaceChildren(...lines.slice(-200).map((l) => el("div", { class: `log ${l.source}` },
      el("time", {}, clock(l.at)), " ",
      l.request_id ? el("a", { class: "request", href: "#logs-panel", onclick: () => showRequest(l.request_id) }, l.request_id.slice(0, 8)) : el("span", { class: "dim" }, "--------"),
      " ", l.line)));
    if (lines.length === 0) root.textContent = request ? `no lines of request ${request}` : "no lines yet";
  } catch (error) {
    root.textContent = error.message;
  }
}

// ------------------------------------------------------------------------------------------
// Polling

async function refresh() {
  const live = document.getElementById("live");
  try {
    const [overview, series] = await Promise.all([api("/_riffle/api/overview"), api("/_riffle/api/series")]);
    state.overview = overview;
    state.series = series;
    document.getElementById("endpoint").textContent = overview.endpoint;
    fillForms();
    renderMappings();
    renderCharts();
    if (state.journalMapping) {
      state.journal = await api(`/_riffle/mappings/${encodeURIComponent(state.journalMapping)}/journal`);
      renderJournal();
    }
    if (state.tick % 2 === 0) await refreshDestinations();
    if (state.tick % 2 === 1) await refreshLogs();
    live.textContent = `live · ${clock(overview.at).slice(0, 8)} UTC`;
    live.className = "live ok";
  } catch (error) {
    live.textContent = `not answering: ${error.message}`;
    live.className = "live error";
  }
  state.tick++;
}

let timer = null;
function schedule() {
  clearTimeout(timer);
  if (document.hidden) return;
  timer = setTimeout(async () => {
    await refresh();
    schedule();
  }, 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("put-form").addEventListener("submit", put);
  document.getElementById("put-target").addEventListener("change", (e) => {
    document.getElementById("put-key-label").firstChild.textContent =
      e.target.value.startsWith("queue:") ? "group id (FIFO) " : "partition key ";
  });
  document.getElementById("journal-mapping").addEventListener("change", (e) => {
    state.journalMapping = e.target.value;
    refresh();
  });
  document.getElementById("journal-filters").addEventListener("change", (e) => {
    const box = e.target;
    if (box.value === "all" && box.checked) state.filters = new Set(["all"]);
    else if (box.checked) { state.filters.delete("all"); state.filters.add(box.value); }
    else state.filters.delete(box.value);
    if (state.filters.size === 0) state.filters.add("all");
    for (const input of document.querySelectorAll("#journal-filters input")) input.checked = state.filters.has(input.value);
    if (state.overview) renderJournal();
  });
  document.getElementById("logs-function").addEventListener("change", refreshLogs);
  document.getElementById("logs-request").addEventListener("input", refreshLogs);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh().then(schedule); });
  refresh().then(schedule);
});
