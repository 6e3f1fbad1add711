/* pyflows console: a small single-page app over the console's HTTP API (see openapi.json).
   Plain JavaScript, no build step, no external assets. URLs are relative so the console also
   works mounted under a prefix (e.g. /_console/ on the local cloud). */
"use strict";

const view = document.getElementById("view");
const CLOSED = ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"];
const REDRIVABLE = ["FAILED", "TIMED_OUT", "ABORTED"];
let stopPolling = () => {};
// Each route gets a token: a page that finishes loading after the user went elsewhere draws nothing.
let routeToken = 0;
const gone = (token) => token !== routeToken;

/* ---------- helpers ---------- */

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// The answer's JSON (or text); with options.withStatus, {status, body}. A failure throws its message.
async function api(path, options = {}) {
  const init = { headers: { Accept: "application/json" }, ...options };
  if (options.json !== undefined) {
    init.method = init.method || "POST";
    init.body = JSON.stringify(options.json);
    init.headers["Content-Type"] = "application/json";
  }
  delete init.withStatus;
  const response = await fetch(path, init);
  const type = response.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const error = new Error((body && body.message) || `HTTP ${response.status}`);
    error.status = response.status;
    error.body = body;
    throw error;
  }
  return options.withStatus ? { status: response.status, body } : body;
}

const enc = encodeURIComponent;
const execPath = (arn) => `api/executions/${enc(arn)}`;
// An execution opened from a filtered list carries the filters, for its breadcrumb back to it.
const execLink = (arn, filters = "") => `#/executions/${enc(arn)}${filters ? "?" + filters : ""}`;
const listLink = (filters = "") => `#/executions${filters ? "?" + filters : ""}`;

function toast(message, isError = false) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.className = "toast" + (isError ? " error" : "");
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.hidden = true), 5000);
}

function statusBadge(status, testid) {
  const label = String(status || "").replace("_", " ");
  return h("span", { class: `status ${status}`, "data-testid": testid }, label);
}

// A business rejection stays FAILED, as Step Functions says, marked as the request the workflow
// refused on purpose (the caller's mistake), which alerted no one.
function rejectedBadge(e, testid) {
  if (!e.rejected) return "";
  return h("span", { class: "tag rejected", "data-testid": testid, title: "The workflow refused the request on purpose; no alert was sent" },
    `rejected: ${e.error}`);
}

// A failed run's error in a list (a rejection's is on its badge): short, the whole in its title.
function rowError(e) {
  if (!e.error || e.rejected) return "";
  const text = String(e.error);
  return h("div", { class: "row-error", "data-testid": "row-error", title: text }, text.length > 80 ? text.slice(0, 79) + "…" : text);
}

function duration(ms) {
  if (ms === null || ms === undefined) return "–";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  const seconds = Math.round(ms / 1000); // rounded once: never "6 min 60 s"
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

function between(start, stop) {
  if (!start) return null;
  return (stop ? new Date(stop) : new Date()) - new Date(start);
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "–");
const clock = (iso) => {
  const d = new Date(iso);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, "0")}`;
};
const pretty = (value) => (typeof value === "string" ? value : JSON.stringify(value, null, 2));

function jsonBlock(value, isError = false) {
  if (value === null || value === undefined) return h("p", { class: "placeholder" }, "none");
  return h("pre", { class: "json" + (isError ? " error" : "") }, pretty(value));
}

// What a person reads of a cause: a Lambda error document's errorMessage (also where the text
// ends in one: "the alert was not sent (...): {...}"), else the text.
function causeMessage(text) {
  if (typeof text !== "string") return "";
  for (let start = text.indexOf("{"); start >= 0; start = text.indexOf("{", start + 1)) {
    const cause = tryJson(text.slice(start));
    if (typeof cause === "string") continue;  // not JSON from there
    return cause && typeof cause === "object" && cause.errorMessage ? text.slice(0, start) + cause.errorMessage : text;
  }
  return text;
}

// An execution's error and cause: the cause's errorMessage when it is a Lambda error document.
function errorBanner(e, failedIn = null) {
  if (!e.error) return "";
  const cause = tryJson(e.cause);
  const message = causeMessage(e.cause);
  return h("div", { class: "error-banner", "data-testid": "execution-error" },
    h("strong", {}, e.error), message ? h("div", {}, message) : null,
    failedIn ? h("div", { "data-testid": "failed-in" }, `Failed in ${failedIn}`) : null,
    cause && typeof cause === "object" ? h("details", {}, h("summary", {}, "Cause"), h("pre", {}, pretty(cause))) : null);
}

// Why the run was stopped before each redrive: its error and cause are only its last run's.
function stopsBefore(stops) {
  if (!stops.length) return "";
  return h("ul", { class: "hint stops", "data-testid": "stopped-before" }, stops.map((stop) => {
    const reason = [stop.error, causeMessage(stop.cause)].filter(Boolean).join(": ");
    return h("li", {}, `Stopped before redrive ${stop.redrive}${reason ? ": " + reason : ""}`);
  }));
}

function graphHeading(box) {
  const zoom = h("button", { type: "button", class: "btn graph-tools", "aria-pressed": "false" }, "Actual size");
  zoom.addEventListener("click", () => {
    const on = box.classList.toggle("zoomed");
    zoom.textContent = on ? "Fit" : "Actual size";
    zoom.setAttribute("aria-pressed", String(on));
  });
  // fitted to a phone's width a graph is too small to read: there it starts at actual size, scrolling
  if (window.matchMedia("(max-width: 640px)").matches) zoom.click();
  return h("h2", {}, "Graph", zoom);
}

function legend() {
  return document.getElementById("legend").content.cloneNode(true);
}

function setNav(name) {
  document.querySelectorAll("[data-nav]").forEach((a) => a.classList.toggle("active", a.dataset.nav === name));
}

function failure(error) {
  view.replaceChildren(h("div", { class: "error-banner" }, h("strong", {}, "Something went wrong"), error.message));
}

/* ---------- the graph: an inline SVG whose states are clickable ---------- */

function mountGraph(box, svgText, graph, onSelect, selected) {
  box.innerHTML = svgText;
  const nodes = {};
  for (const [name, id] of Object.entries(graph.svgIds || {})) {
    const node = box.querySelector(`#${CSS.escape(id)}`);
    if (!node) continue;
    nodes[name] = node;
    node.dataset.state = name;
    node.querySelectorAll("title").forEach((t) => (t.textContent = name));
    if (onSelect) {
      node.setAttribute("tabindex", "0");
      node.setAttribute("role", "button");
      node.setAttribute("aria-label", `${name}: ${(graph.states[name] || {}).status || ""}`.replace("_", " "));
      node.addEventListener("click", () => onSelect(name));
      node.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); onSelect(name); } });
    }
    if (name === selected) node.classList.add("selected");
  }
  // Tab goes through the states as the workflow runs them, not in the order Graphviz wrote them:
  // the nodes are moved, in flow order, to the end of their group (drawn over the edges).
  for (const name of graph.order || []) if (nodes[name]) nodes[name].parentNode.append(nodes[name]);
}

/* ---------- workflows ---------- */

// Graphviz writes state names at 11 pt: at 0.7 of its size they are still 10 px, which can be read.
const THUMB_SCALE = 0.75;
const THUMB_MIN_SCALE = 0.7;

// A workflow's graph in the list, sized by the graph: narrower only down to the scale its names
// can be read at, then it scrolls sideways in its box (a phone), shown from its Start.
function showThumb(thumb, svgText) {
  thumb.innerHTML = svgText;
  const svg = thumb.querySelector("svg");
  if (!svg) return;
  const width = svg.width.baseVal.value;
  svg.style.width = `${Math.round(width * THUMB_SCALE)}px`;
  svg.style.minWidth = `${Math.round(width * THUMB_MIN_SCALE)}px`;
  const start = svg.querySelector("#start");
  if (start && thumb.scrollWidth > thumb.clientWidth) {
    const node = start.getBoundingClientRect();
    const frame = thumb.getBoundingClientRect();
    thumb.scrollLeft = node.left + node.width / 2 - frame.left - thumb.clientWidth / 2;
  }
}

async function workflowsView() {
  setNav("workflows");
  const token = routeToken;
  const { workflows } = await api("api/workflows");
  if (gone(token)) return;
  const cards = workflows.map((wf) => {
    const thumb = h("div", { class: "thumb" }, h("span", { class: "placeholder" }, "drawing…"));
    api(`api/workflows/${enc(wf.name)}/graph.svg`).then((svg) => { if (!gone(token)) showThumb(thumb, svg); }).catch(() => {});
    const triggers = wf.triggers.map((t) =>
      h("span", { class: "tag" }, t.kind === "http" ? `${t.method} ${t.path}` : t.kind === "schedule" ? `${t.expression} ${t.timezone}${t.enabled ? "" : " (off here)"}` : `stream ${t.stream}`),
    ).concat(wf.routes.map((r) => h("span", { class: "tag" }, `${r.method} ${r.path}`)));
    return h(
      "article",
      { class: "panel card", "data-workflow": wf.name },
      h("div", { class: "about" },
        h("header", {}, h("h2", {}, h("a", { href: `#/workflows/${enc(wf.name)}` }, wf.name)),
          h("div", { class: "tags" }, h("span", { class: "tag" }, wf.type),
            wf.deployed ? null : h("span", { class: "tag warn" }, "not deployed"))),
        h("p", {}, wf.description),
        triggers.length ? h("div", { class: "tags" }, triggers) : null,
        h("div", { class: "actions" },
          h("a", { class: "btn primary", href: `#/workflows/${enc(wf.name)}` }, "Start execution"),
          h("a", { class: "btn", href: `#/executions?workflow=${enc(wf.name)}` }, "Executions"))),
      h("a", { href: `#/workflows/${enc(wf.name)}`, class: "thumb-link", "aria-label": `${wf.name}: its graph` }, thumb),
    );
  });
  view.replaceChildren(
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Workflows"),
      h("p", {}, "Business processes as Step Functions state machines."))),
    h("div", { class: "workflow-list" }, cards),
  );
}

/* ---------- the start form, driven by the input JSON Schema ---------- */

function fieldInput(name, schema, value) {
  const id = `field-${name}`;
  if (Array.isArray(schema.enum)) {
    return h("select", { id, name }, h("option", { value: "" }, "—"),
      schema.enum.map((v) => h("option", { value: JSON.stringify(v), selected: JSON.stringify(v) === JSON.stringify(value) }, String(v))));
  }
  if (schema.type === "array" && schema.items && Array.isArray(schema.items.enum)) {
    // a list of known values: one checkbox each
    const chosen = new Set((Array.isArray(value) ? value : []).map((v) => JSON.stringify(v)));
    return h("div", { id, class: "choices", role: "group", "data-choices": "1" }, schema.items.enum.map((v) =>
      h("label", { class: "choice" }, h("input", { type: "checkbox", value: JSON.stringify(v), checked: chosen.has(JSON.stringify(v)) }), String(v))));
  }
  if (schema.type === "integer" || schema.type === "number") {
    return h("input", { id, name, type: "number", step: schema.type === "integer" ? "1" : "any",
      min: schema.minimum, max: schema.maximum, value: value ?? "" });
  }
  if (schema.type === "boolean") {
    return h("select", { id, name }, h("option", { value: "" }, "—"),
      h("option", { value: "true", selected: value === true }, "true"), h("option", { value: "false", selected: value === false }, "false"));
  }
  if (schema.type === "string") return h("input", { id, name, type: "text", value: value ?? "", placeholder: schema.format || "" });
  return h("textarea", { id, name, rows: 4, "data-json": "1" }, value === undefined ? "" : JSON.stringify(value, null, 2));
}

// A field's value; undefined when empty. What cannot be a value is thrown as {field, message}.
function readField(el, name) {
  if (el.dataset.choices) {
    const checked = [...el.querySelectorAll("input:checked")].map((box) => JSON.parse(box.value));
    return checked.length ? checked : undefined;
  }
  if (el.validity && el.validity.badInput) throw { field: name, message: "not a number" };
  const raw = el.value;
  if (raw === "") return undefined;
  if (el.tagName === "SELECT") return JSON.parse(raw);
  if (el.type === "number") return Number(raw);
  if (el.dataset.json) {
    try { return JSON.parse(raw); } catch (e) { throw { field: name, message: `not JSON: ${e.message}` }; }
  }
  return raw;
}

// A field's path as the API names it (lines.0.amount), written as a reader would: lines[0].amount
const readablePath = (field) => field.replace(/(^|\.)(\d+)(?=\.|$)/g, "[$2]");

function writeField(el, value) {
  if (el.dataset.choices) {
    const chosen = new Set((Array.isArray(value) ? value : []).map((v) => JSON.stringify(v)));
    el.querySelectorAll("input").forEach((box) => (box.checked = chosen.has(box.value)));
  } else if (el.tagName === "SELECT") el.value = value === undefined ? "" : JSON.stringify(value);
  else if (el.dataset.json) el.value = value === undefined ? "" : JSON.stringify(value, null, 2);
  else el.value = value ?? "";
}

// `onEnded`: called once an Express start has answered (the page's list of runs has a new one)
function startForm(wf, onEnded = null) {
  const schema = wf.inputSchema || {};
  const props = schema.properties || {};
  const required = new Set(schema.required || []);
  const fields = Object.entries(props).map(([name, prop]) =>
    h("div", { class: "field", "data-field": name },
      h("label", { for: `field-${name}` }, prop.title || name, required.has(name) ? h("span", { class: "req" }, "*") : null),
      fieldInput(name, prop, (wf.exampleInput || {})[name]),
      prop.description ? h("div", { class: "hint" }, prop.description) : null,
      h("div", { class: "field-error", "data-testid": `error-${name}` })));
  const raw = h("textarea", { id: "raw-input", name: "raw" }, JSON.stringify(wf.exampleInput || {}, null, 2));
  // Input that is not an object of fields (a stream's batch) is edited as JSON from the start.
  const advanced = h("details", { class: "advanced", open: fields.length === 0 }, h("summary", {}, "Edit the input as JSON instead"),
    h("div", { class: "field", "data-field": "$" }, raw, h("div", { class: "field-error", "data-testid": "error-$" })));
  const formError = h("div", { class: "form-error", hidden: true, "data-testid": "form-error" });
  // An Express execution runs to its end in the start, and AWS keeps none to open later: its end shows here.
  const express = wf.type === "EXPRESS";
  // Express names need not be unique: only a Standard start is idempotent by its name.
  const nameHint = express ? "(optional: each start with it is a new execution)" : "(optional: makes the start idempotent)";
  const nameField = h("div", { class: "field", "data-field": "__name" },
    h("label", { for: "field-execution-name" }, "Execution name ", h("span", { class: "hint", "data-testid": "name-hint" }, nameHint)),
    h("input", { id: "field-execution-name", type: "text", name: "__name", placeholder: "generated when empty" }),
    h("div", { class: "field-error" }));
  const submit = h("button", { class: "btn primary", type: "submit", disabled: !wf.deployed }, "Start execution");
  const result = h("div", { class: "run-result", hidden: true, "data-testid": "run-result" });
  const form = h("form", { novalidate: true, "data-testid": "start-form" }, formError, fields, advanced, nameField, submit,
    wf.deployed ? null : h("p", { class: "hint" }, "Deploy this workflow to start it: python deploy.py --env …"),
    express ? h("p", { class: "hint" }, "Express workflow: it runs to its end when started, and its result shows below.") : null,
    result);
  const showResult = (e) => {
    result.hidden = false;
    result.replaceChildren(
      h("h3", {}, "Result ", statusBadge(e.status, "run-status")),
      errorBanner(e) || h("div", { "data-testid": "run-output" }, jsonBlock(e.output)));
    result.scrollIntoView({ block: "nearest" });
  };

  const fieldOf = (name) => form.querySelector(`#field-${CSS.escape(name)}`);
  // The fields' values, and what could not be read from them.
  const readFields = () => {
    const input = {};
    const problems = [];
    for (const name of Object.keys(props)) {
      try {
        const value = readField(fieldOf(name), name);
        if (value !== undefined) input[name] = value;
      } catch (problem) { problems.push(problem); }
    }
    return { input, problems };
  };
  // The editor and the fields show the same input: each takes the other's when it is switched to.
  advanced.addEventListener("toggle", () => {
    if (!fields.length) return;
    if (advanced.open) { raw.value = JSON.stringify(readFields().input, null, 2); return; }
    let document;
    try { document = JSON.parse(raw.value || "{}"); } catch { return; } // the fields keep theirs
    if (document && typeof document === "object" && !Array.isArray(document)) {
      for (const name of Object.keys(props)) writeField(fieldOf(name), document[name]);
    }
  });
  const collect = () => {
    if (advanced.open) {
      try { return JSON.parse(raw.value || "{}"); } catch (e) { throw [{ field: "$", message: `not JSON: ${e.message}` }]; }
    }
    const { input, problems } = readFields();
    if (problems.length) throw problems;
    return input;
  };
  const clearErrors = () => {
    formError.hidden = true;
    formError.textContent = "";
    form.querySelectorAll(".field").forEach((f) => f.classList.remove("invalid"));
    form.querySelectorAll(".field-error").forEach((e) => (e.textContent = ""));
  };
  const showErrors = (errors) => {
    for (const { field, message } of errors) {
      const top = field.split(".")[0];
      // inside the field (an item of its array): the path to it, as lines[0].amount
      const path = readablePath(field);
      // The JSON editor's box while it is open; else the field's own, if it has one (never the
      // closed editor's, where the error would not be seen): the others go above the form.
      const box = advanced.open ? form.querySelector('.field[data-field="$"]')
        : top === "$" ? null : form.querySelector(`.field[data-field="${CSS.escape(top)}"]`);
      const text = (advanced.open && field !== "$") || field !== top ? `${path}: ${message}` : message;
      if (box) {
        box.classList.add("invalid");
        const slot = box.querySelector(".field-error");
        slot.textContent = slot.textContent ? `${slot.textContent}; ${text}` : text;
      } else {
        formError.hidden = false;
        formError.textContent = (formError.textContent ? `${formError.textContent}; ` : "") + `${path}: ${message}`;
      }
    }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    clearErrors();
    result.hidden = true;
    let input;
    try { input = collect(); } catch (problems) { showErrors(problems); return; }
    submit.disabled = true; // one start however many clicks
    try {
      // Validate first: nothing starts until the input matches the schema.
      const check = await api(`api/workflows/${enc(wf.name)}/validate`, { json: input });
      if (!check.valid) { showErrors(check.fields); return; }
      const name = form.querySelector('[name="__name"]').value.trim();
      const { status, body: started } = await api(`api/workflows/${enc(wf.name)}/executions`, {
        json: { input, ...(name ? { name } : {}) },
        withStatus: true,
      });
      if (express) { showResult(started); if (onEnded) onEnded(); return; }
      // 200, not 201: the run of that name and input, still running; nothing new was started
      if (status === 200) toast(`Already running with this name and input: ${started.name}. Nothing new was started.`);
      location.hash = execLink(started.executionArn);
    } catch (error) {
      if (error.body && error.body.fields) showErrors(error.body.fields);
      else { formError.hidden = false; formError.textContent = error.message; }
    } finally {
      submit.disabled = !wf.deployed;
    }
  });
  // On input, not change: a change fires on blur, and moving the layout then would steal the click.
  form.addEventListener("input", (event) => {
    const box = event.target.closest(".field");
    if (box && box.classList.contains("invalid")) {
      box.classList.remove("invalid");
      box.querySelector(".field-error").textContent = "";
    }
  });
  return form;
}

async function workflowView(name, params) {
  setNav("workflows");
  const token = routeToken;
  // `from`: an execution whose input the form starts with (to start it afresh)
  const from = params.get("from");
  const [wf, graph, svg, earlier] = await Promise.all([
    api(`api/workflows/${enc(name)}`), api(`api/workflows/${enc(name)}/graph`), api(`api/workflows/${enc(name)}/graph.svg`),
    from ? api(execPath(from)) : null,
  ]);
  if (gone(token)) return;
  const box = h("div", { class: "graph-box", "data-testid": "graph" });
  mountGraph(box, svg, graph, null);
  const recent = h("div", {}, h("p", { class: "placeholder" }, "loading…"));
  view.replaceChildren(
    h("div", { class: "crumbs" }, h("a", { href: "#/" }, "Workflows"), " / ", wf.name),
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, wf.name), h("p", {}, wf.description)),
      h("div", { class: "tags" }, h("span", { class: "tag" }, wf.type), h("span", { class: "tag" }, wf.stateMachineName))),
    h("div", { class: "split" },
      h("section", { class: "panel" }, graphHeading(box), box),
      h("section", { class: "panel" }, h("h2", {}, "Start an execution"),
        earlier ? h("p", { class: "hint", "data-testid": "started-from" }, `With the input of ${earlier.name}`) : null,
        startForm(earlier ? { ...wf, exampleInput: earlier.input } : wf, () => loadRecent()))),
    h("section", { class: "panel", style: "margin-top:18px" },
      h("h2", {}, "Recent executions ", h("a", { href: `#/executions?workflow=${enc(name)}`, style: "font-weight:400;font-size:13px" }, "all")), recent),
  );
  const loadRecent = async () => {
    const shown = await api(`api/workflows/${enc(name)}/executions?limit=10`)
      .then(({ executions }) => executionsTable(executions, false), notDeployed);
    if (!gone(token)) recent.replaceChildren(shown);
  };
  await loadRecent();
}

/* ---------- executions list ---------- */

// `filters`: the list's query, which each execution's link carries
function executionsTable(executions, withWorkflow = true, filtered = false, filters = "") {
  if (!executions.length) return h("p", { class: "empty" }, filtered ? "No executions match these filters." : "No executions yet.");
  return scrolling(h("table", { class: "data", "data-testid": "executions" },
    h("thead", {}, h("tr", {}, h("th", {}, "Name"), withWorkflow ? h("th", {}, "Workflow") : null,
      h("th", {}, "Status"), h("th", {}, "Started"), h("th", {}, "Duration"))),
    h("tbody", {}, executions.map((e) => h("tr", { "data-arn": e.executionArn },
      h("td", {}, h("a", { href: execLink(e.executionArn, filters) }, e.name)),
      withWorkflow ? h("td", {}, e.workflow) : null,
      h("td", {}, statusBadge(e.status), " ", rejectedBadge(e, "rejected"), rowError(e)),
      h("td", {}, when(e.startDate)),
      h("td", {}, duration(between(e.startDate, e.stopDate))))))));
}

// A workflow not deployed has no executions to list: the API's 409 says so, and how to deploy it.
function notDeployed(error) {
  if (error.status !== 409 || !error.body || error.body.error !== "NotDeployed") throw error;
  return h("p", { class: "empty", "data-testid": "not-deployed" }, error.message);
}

// A wide table scrolls inside its panel instead of widening the page (on a phone).
const scrolling = (table) => h("div", { class: "table-scroll" }, table);

async function executionsView(params) {
  setNav("executions");
  const token = routeToken;
  const { workflows } = await api("api/workflows");
  if (gone(token)) return;
  const workflow = h("select", { "aria-label": "workflow" }, h("option", { value: "" }, "All workflows"),
    workflows.map((w) => h("option", { value: w.name, selected: params.get("workflow") === w.name }, w.name)));
  const status = h("select", { "aria-label": "status" }, h("option", { value: "" }, "Any status"),
    ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"].map((s) =>
      h("option", { value: s, selected: params.get("status") === s }, s.replace("_", " "))));
  // the failures that need someone are FAILED without the rejections (as ?rejected=false)
  const rejected = h("select", { "aria-label": "rejections" },
    [["", "Rejections shown"], ["false", "Rejections left out"], ["true", "Rejections only"]].map(([value, label]) =>
      h("option", { value, selected: (params.get("rejected") || "") === value }, label)));
  const search = h("input", { type: "search", placeholder: "Filter by name…", value: params.get("q") || "", "aria-label": "name" });
  const results = h("div", {}, h("p", { class: "placeholder" }, "loading…"));
  let rows = [];
  // The filters as a query: the page's own URL, and its rows' links (for their way back)
  const filters = (withName = true) => {
    const query = new URLSearchParams();
    if (workflow.value) query.set("workflow", workflow.value);
    if (status.value) query.set("status", status.value);
    if (rejected.value) query.set("rejected", rejected.value);
    if (withName && search.value) query.set("q", search.value);
    return query.toString();
  };
  const render = () => {
    if (missing) { results.replaceChildren(missing); return; }
    const q = search.value.trim().toLowerCase();
    const filtered = Boolean(q || workflow.value || status.value || rejected.value);
    results.replaceChildren(executionsTable(rows.filter((e) => !q || e.name.toLowerCase().includes(q)), true, filtered, filters()));
  };
  let missing = null; // the 409 of a workflow not deployed: said instead of the table
  const load = async () => {
    try {
      rows = (await api(`api/executions?${filters(false)}`)).executions;
      missing = null;
    } catch (error) {
      missing = notDeployed(error);
      rows = [];
    }
    render();
  };
  const refilter = () => history.replaceState(null, "", listLink(filters()));
  workflow.addEventListener("change", () => { refilter(); load(); });
  status.addEventListener("change", () => { refilter(); load(); });
  rejected.addEventListener("change", () => { refilter(); load(); });
  search.addEventListener("input", () => { refilter(); render(); });
  view.replaceChildren(
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Executions"), h("p", {}, "Newest first; refreshes every few seconds."))),
    h("div", { class: "filters" }, workflow, status, rejected, search),
    h("section", { class: "panel" }, results),
  );
  await load();
  if (gone(token)) return;
  const timer = setInterval(() => load().catch(() => {}), 3000);
  stopPolling = () => clearInterval(timer);
}

/* ---------- one execution ---------- */

function statePanel(state) {
  if (!state) return h("p", { class: "placeholder" }, "Click a state in the graph to see its input, output, error, retries and duration.");
  const rows = [
    ["Status", statusBadge(state.status, "state-status")],
    ["Type", state.type],
    ["Duration", duration(state.durationMs)],
    ["Retries", String(state.retries || 0)],
  ];
  if (state.runs > 1) rows.push(["Runs", String(state.runs)]);
  if (state.iterations) rows.push(["Iterations", Object.entries(state.iterations).map(([k, v]) => `${v} ${k}`).join(", ")]);
  if (state.enteredAt) rows.push(["Entered", when(state.enteredAt)]);
  return h("div", { "data-testid": "state-details", "data-state": state.name },
    h("h2", {}, state.name),
    state.comment ? h("p", { class: "hint" }, state.comment) : null,
    h("dl", { class: "kv" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    state.error ? [h("h3", {}, "Error"), h("div", { "data-testid": "state-error" },
      jsonBlock({ Error: state.error, Cause: tryJson(state.cause) }, true))] : null,
    h("h3", {}, "Input"), h("div", { "data-testid": "state-input" }, jsonBlock(state.input)),
    h("h3", {}, "Output"), h("div", { "data-testid": "state-output" }, jsonBlock(state.output)),
    state.runs > 1 && state.history ? [h("h3", {}, "Runs"), h("table", { class: "data runs" },
      // a Map's runs by their item, numbered from 0 as the history numbers them
      h("tbody", {}, state.history.map((run, i) => h("tr", {}, h("td", {}, run.mapItem != null ? `item ${run.mapItem}` : `#${i + 1}`), h("td", {}, statusBadge(run.status)),
        h("td", {}, duration(run.durationMs)), h("td", {}, run.error || "")))))] : null);
}

function tryJson(text) {
  if (typeof text !== "string") return text;
  try { return JSON.parse(text); } catch { return text; }
}

// A task's result as the history shows it: an AWS SDK call's (a Lambda invoke's) leads with its
// metadata, so its Payload and the rest come first in the cut preview, the metadata after them.
const SDK_METADATA = ["SdkHttpMetadata", "SdkResponseMetadata"];
function resultPreview(text) {
  const value = tryJson(text);
  if (!value || typeof value !== "object" || Array.isArray(value) || !SDK_METADATA.some((k) => k in value)) return text;
  const ordered = "Payload" in value ? { Payload: value.Payload } : {};
  for (const [k, v] of Object.entries(value)) if (!SDK_METADATA.includes(k)) ordered[k] = v;
  for (const k of SDK_METADATA) if (k in value) ordered[k] = value[k];
  return JSON.stringify(ordered);
}

function eventsTable(events, startDate, onSelect) {
  const start = startDate ? new Date(startDate) : null;
  return scrolling(h("table", { class: "data", "data-testid": "events" },
    h("thead", {}, h("tr", {}, ["ID", "Type", "State", "Elapsed", "Timestamp", "Detail"].map((t) => h("th", {}, t)))),
    h("tbody", {}, events.map((e) => {
      const details = Object.entries(e).find(([k]) => k.endsWith("EventDetails"));
      const d = details ? details[1] : {};
      // the state and Map item the API places it in (a Map's items interleave their events)
      const name = e.state || "";
      const reason = d.error ? causeMessage(d.cause) : "";  // the message, not the stack trace
      const detail = d.error ? `${d.error}${reason ? ": " + reason.slice(0, 160) : ""}`
        : d.output != null ? resultPreview(d.output) : d.input ?? (d.index !== undefined ? `index ${d.index}` : "");
      const row = h("tr", { "data-type": e.type },
        h("td", {}, e.id), h("td", {}, e.type), h("td", {}, name ? h("a", { href: "javascript:void 0" }, name) : "",
          e.mapItem ? h("span", { class: "item", "data-testid": "map-item" }, ` #${e.mapItem}`) : ""),
        h("td", {}, start ? duration(new Date(e.timestamp) - start) : ""), h("td", { title: when(e.timestamp) }, clock(e.timestamp)),
        h("td", { class: "mono" }, String(detail).slice(0, 240)));
      if (name) row.querySelector("a").addEventListener("click", () => onSelect(name, true));
      return row;
    }))));
}

async function executionView(arn, params) {
  setNav("executions");
  const token = routeToken;
  let selected = null;
  let drawn = null; // the SVG on the page: redrawn only when it changes, so focus stays where it is
  let current = null;
  let redriven = null; // the redriveCount of a redrive this page started, until its run ends
  const head = h("div");
  const banner = h("div");
  const box = h("div", { class: "graph-box", "data-testid": "graph" });
  const panel = h("section", { class: "panel state-panel", id: "state-panel" });
  const tabBody = h("div", { class: "panel" });
  let tab = "events";
  const tabs = h("div", { class: "tabs" }, [["events", "Event history"], ["io", "Execution input & output"]].map(([key, label]) =>
    h("button", { type: "button", class: key === tab ? "active" : "", "data-tab": key, onclick: () => { tab = key; drawTab(); } }, label)));

  const select = (name, reveal = false) => {
    selected = name;
    box.querySelectorAll("g.node").forEach((n) => n.classList.toggle("selected", n.dataset.state === name));
    panel.replaceChildren(statePanel(current.graph.states[name]));
    // chosen from the event history, far below: bring the details into view
    if (reveal && panel.getBoundingClientRect().top < 0) panel.scrollIntoView({ block: "start", behavior: "smooth" });
  };
  const drawTab = () => {
    tabs.querySelectorAll("button").forEach((b) => b.classList.toggle("active", b.dataset.tab === tab));
    const e = current.execution;
    tabBody.replaceChildren(tab === "events" ? eventsTable(current.events, e.startDate, select)
      : h("div", { class: "split" }, h("div", {}, h("h3", {}, "Input"), jsonBlock(e.input)),
        h("div", {}, h("h3", {}, "Output"), jsonBlock(e.output))));
  };
  const action = async (verb, question, body = {}) => {
    if (question && !confirm(question)) return;
    // the count the redriven run will have, known before the answer (a describe may lag behind it)
    const count = (current.execution.redriveCount || 0) + 1;
    try {
      await api(`${execPath(arn)}/${verb}`, { json: body });
      if (verb === "stop") toast("Execution stopped");
      else {
        // started, not done: how the redriven run ends is told when it ends (often at once)
        toast("Redrive started");
        redriven = count;
      }
      await refresh();
      poll();
    } catch (error) { toast(error.message, true); }
  };
  // The end of the run a redrive started, once the page sees it.
  const tellRedrive = (e) => {
    if (redriven === null || (e.redriveCount || 0) < redriven || !CLOSED.includes(e.status)) return;
    redriven = null;
    if (e.status === "SUCCEEDED") toast("The redriven execution succeeded");
    else if (e.status === "ABORTED") toast("The redriven execution was stopped", true);
    else toast(`The redriven execution ${e.status === "TIMED_OUT" ? "timed out" : "failed"} again${e.error ? ": " + e.error : ""}`, true);
  };
  const drawHead = (e) => {
    const buttons = [];
    // why, optional: kept in the run's history and shown on its page, for whoever looks next
    const stop = () => {
      const why = prompt("Stop this execution? Why (optional, kept with it):", "");
      if (why !== null) action("stop", null, why.trim() ? { error: "Stopped", cause: why.trim() } : {});
    };
    // Step Functions stops no Express execution: it runs to its end
    const stoppable = e.status === "RUNNING" && !e.executionArn.includes(":express:");
    if (stoppable) buttons.push(h("button", { class: "btn danger", "data-testid": "stop", onclick: stop }, "Stop"));
    // redriveStatus says (an Express execution never redrives); without it, the status does
    // A Catch led it to its Fail state, where a redrive restarts: it would only fail again.
    const rerunsOnly = current && current.graph.execution && current.graph.execution.redriveRerunsOnly;
    const futile = rerunsOnly ? `A redrive would only run ${rerunsOnly} again, and fail as this run did.` : null;
    const redrivable = e.redriveStatus ? e.redriveStatus === "REDRIVABLE" : REDRIVABLE.includes(e.status);
    const ended = { ABORTED: "was stopped", TIMED_OUT: "timed out" }[e.status] || "failed";
    // once told it would only fail again and asked for it anyway: the API refuses it without force
    if (redrivable) buttons.push(h("button", { class: "btn", "data-testid": "redrive", title: futile, onclick: () => action("redrive", futile ? `${futile} Redrive anyway?` : `Redrive this execution from where it ${ended}?`, futile ? { force: true } : {}) }, "Redrive"));
    // a run whose fresh start would do harm (its workflow says which errors) is not offered one
    if (e.workflow && !e.freshStartWarning && REDRIVABLE.includes(e.status)) buttons.push(h("a", { class: "btn", "data-testid": "start-afresh", href: `#/workflows/${enc(e.workflow)}?from=${enc(e.executionArn)}` }, "Start again"));
    head.replaceChildren(
      h("div", { class: "crumbs" }, h("a", { href: listLink(params.toString()) }, "Executions"), " / ",
        e.workflow ? h("a", { href: `#/workflows/${enc(e.workflow)}` }, e.workflow) : "", " / ", e.name),
      h("div", { class: "page-head" }, h("div", {}, h("h1", {}, e.name), h("p", { class: "mono" }, e.executionArn)),
        h("div", { class: "actions", style: "display:flex;flex-wrap:wrap;gap:8px;align-items:center" }, statusBadge(e.status, "execution-status"),
          rejectedBadge(e, "execution-rejected"), buttons)),
      h("dl", { class: "summary" },
        [["Workflow", e.workflow || "–"], ["Started", when(e.startDate)], ["Stopped", when(e.stopDate)],
          ["Duration", duration(between(e.startDate, e.stopDate))], ["Redrives", String(e.redriveCount || 0)]]
          .map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", { "data-testid": `summary-${k.toLowerCase()}` }, v)))),
      // replaceChildren, unlike h(), writes a null as the text "null": nothing is ""
      e.rejected ? h("p", { class: "hint", "data-testid": "rejected-note" },
        "Rejected: the workflow refused this request on purpose (the caller's mistake), and no alert was sent.") : "",
      futile && redrivable ? h("p", { class: "hint", "data-testid": "redrive-note" }, futile) : "",
      e.freshStartWarning ? h("p", { class: "hint", "data-testid": "start-afresh-note" }, `Not to be started again: ${e.freshStartWarning}`) : "",
      e.endedIn ? h("p", { class: "hint", "data-testid": "ended-in" }, `${e.status === "TIMED_OUT" ? "Timed out" : "Stopped"} in ${e.endedIn}`) : "",
      stopsBefore(e.stoppedBeforeRedrives || []));
    banner.replaceChildren(errorBanner(e, current && current.graph.execution && current.graph.execution.failedIn));
  };
  const refresh = async () => {
    const [execution, graph, svg, history] = await Promise.all([
      api(execPath(arn)), api(`${execPath(arn)}/graph`), api(`${execPath(arn)}/graph.svg`), api(`${execPath(arn)}/history`),
    ]);
    if (gone(token)) return execution;
    current = { execution, graph, events: history.events };
    drawHead(execution);
    tellRedrive(execution);
    if (svg !== drawn) { mountGraph(box, svg, graph, select, selected); drawn = svg; }
    if (selected) select(selected); else panel.replaceChildren(statePanel(null));
    drawTab();
    return execution;
  };
  const poll = () => {
    stopPolling();
    let live = true;
    const timer = setInterval(async () => {
      // ended, unless a redrive this page started is not yet seen
      const waiting = redriven !== null && (current.execution.redriveCount || 0) < redriven;
      if (!live || (CLOSED.includes(current.execution.status) && !waiting)) { clearInterval(timer); return; }
      try { await refresh(); } catch (error) { /* a blip: keep polling */ }
    }, 1000);
    stopPolling = () => { live = false; clearInterval(timer); };
  };

  view.replaceChildren(head, banner,
    h("div", { class: "split wide" }, h("section", { class: "panel" }, graphHeading(box), box, legend()), panel),
    tabs, tabBody);
  await refresh();
  if (!gone(token)) poll();
}

/* ---------- alerts ---------- */

// What the CLI's `alerts` says of an alert held back from email (console/cli.py).
const HELD = "not emailed: one of its error was, within the hour";

function alertsTable(alerts) {
  if (!alerts.length) return h("p", { class: "empty" }, "No alerts in the inbox.");
  return scrolling(h("table", { class: "data", "data-testid": "alerts" },
    h("thead", {}, h("tr", {}, ["Sent", "Alert", "Workflow", "Error", "Reason", "Email", "Execution or alarm"].map((t) => h("th", {}, t)))),
    h("tbody", {}, alerts.map((a) => h("tr", { "data-execution": a.execution || null, "data-alarm": a.alarm || null },
      h("td", { title: a.sent || "" }, when(a.sent)),
      h("td", {}, a.subject || ""),
      h("td", {}, a.workflow || ""),
      h("td", {}, a.error || ""),
      // neither a failure's nor an alarm's: the message as it was sent
      h("td", { class: "reason", "data-testid": "alert-reason" }, a.reason !== undefined ? a.reason : a.message,
        a.failedIn ? h("div", { class: "hint" }, `Failed in ${a.failedIn}`) : null,
        a.note ? h("div", { class: "hint", "data-testid": "alert-note" }, a.note) : null),
      h("td", { "data-testid": "alert-emailed" }, a.emailed
        ? h("span", { class: "tag" }, "emailed")
        : h("span", { class: "tag warn" }, HELD)),
      h("td", {}, a.execution ? h("a", { href: execLink(a.execution), "data-testid": "alert-execution" }, a.name || a.execution)
        : a.alarm ? h("span", { "data-testid": "alert-alarm" }, `alarm ${a.alarm}`) : ""))))));
}

async function alertsView() {
  setNav("alerts");
  const token = routeToken;
  const results = h("div", {}, h("p", { class: "placeholder" }, "loading…"));
  const load = async () => {
    const { alerts } = await api("api/alerts");  // the newest 20: each is looked up in its run's history
    if (gone(token)) return;
    results.replaceChildren(alertsTable(alerts));
  };
  const refresh = h("button", { type: "button", class: "btn", "data-testid": "alerts-refresh" }, "Refresh");
  refresh.addEventListener("click", () => load().catch((error) => toast(error.message, true)));
  view.replaceChildren(
    h("div", { class: "page-head" },
      h("div", {}, h("h1", {}, "Alerts"),
        h("p", {}, "The alerts inbox, newest first: read, not acknowledged (python -m workflows alerts --ack removes them).")),
      refresh),
    h("section", { class: "panel" }, results),
  );
  await load();
}

/* ---------- routing ---------- */

async function route() {
  stopPolling();
  stopPolling = () => {};
  routeToken += 1;
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  try {
    if (parts[0] === "workflows" && parts[1]) await workflowView(decodeURIComponent(parts[1]), params);
    else if (parts[0] === "executions" && parts[1]) await executionView(decodeURIComponent(parts.slice(1).join("/")), params);
    else if (parts[0] === "executions") await executionsView(params);
    else if (parts[0] === "alerts") await alertsView();
    else await workflowsView();
  } catch (error) {
    failure(error);
  }
}

window.addEventListener("hashchange", route);
api("api/environment").then((env) => {
  document.getElementById("env").textContent = `${env.app}-${env.name} · ${env.local ? "local cloud" : env.region}`;
}).catch(() => {});
route();
