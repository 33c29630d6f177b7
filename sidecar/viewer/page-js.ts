// The viewer page's script, served as /app.js: filters in the URL, pages, the record panel.
// Every value from a record reaches the page through textContent, never as HTML.

/** `GET /app.js`. Plain ES2020 for the browser; no template literals, so it sits in this one. */
export const PAGE_JS = `"use strict";
(function () {
  var FIELDS = ["actor", "action", "targetType", "targetId", "status", "from", "to", "service", "requestId"];
  var TIMES = ["from", "to"];
  var form = document.getElementById("filters");
  var tbody = document.querySelector("#records tbody");
  var more = document.getElementById("more");
  var message = document.getElementById("message");
  var detail = document.getElementById("detail");
  var detailJson = document.getElementById("detail-json");
  var next = null;
  var query = null;
  var selected = null;

  function text(value) {
    if (value === undefined || value === null) return "";
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    return JSON.stringify(value);
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  // A record's time in the browser's time zone, as the time filters take it; the panel keeps UTC.
  function dateText(value) {
    var iso = value && typeof value === "object" ? value.$date : value;
    var d = typeof iso === "string" ? new Date(iso) : null;
    if (!d || isNaN(d.getTime())) return text(value);
    var ms = d.getMilliseconds();
    return toLocalInput(iso).replace("T", " ") + (ms ? "." + String(ms + 1000).slice(1) : "");
  }
  // An ISO time as a datetime-local value, in the browser's time zone.
  function toLocalInput(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }
  // The filter as URL parameters: from the form, or from the address (a deep link).
  function paramsFromForm() {
    var params = new URLSearchParams();
    FIELDS.forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value === "") return;
      if (TIMES.indexOf(name) !== -1) {
        var d = new Date(value);
        if (isNaN(d.getTime())) return;
        value = d.toISOString();
      }
      params.set(name, value);
    });
    var limit = new URLSearchParams(location.search).get("limit");
    if (limit) params.set("limit", limit);
    return params;
  }
  function fillForm(params) {
    FIELDS.forEach(function (name) {
      var value = params.get(name) || "";
      form.elements[name].value = TIMES.indexOf(name) !== -1 && value ? toLocalInput(value) : value;
    });
  }
  function say(words, isError) {
    message.textContent = words;
    message.className = isError ? "error" : "";
  }
  function cell(row, value, className) {
    var td = document.createElement("td");
    td.textContent = value;
    td.title = value;
    if (className) td.className = className;
    row.appendChild(td);
  }
  function open(row, record) {
    if (selected) selected.classList.remove("selected");
    selected = row;
    row.classList.add("selected");
    detailJson.textContent = JSON.stringify(record, null, 2);
    detail.hidden = false;
  }
  function addRow(record) {
    var row = document.createElement("tr");
    var target = record.target || {};
    var outcome = record.outcome || {};
    var status = text(outcome.status) + (outcome.aborted === true ? " (aborted)" : "");
    cell(row, dateText(record.ts));
    cell(row, text(record.actor && record.actor.id));
    cell(row, text(record.action));
    cell(row, record.target ? text(target.type) + ":" + text(target.id) : "");
    cell(row, status, outcome.status >= 400 || outcome.aborted === true ? "failed" : "");
    cell(row, outcome.durationMs === undefined ? "" : text(outcome.durationMs) + " ms");
    row.tabIndex = 0;
    row.addEventListener("click", function () { open(row, record); });
    row.addEventListener("keydown", function (e) { if (e.key === "Enter") open(row, record); });
    tbody.appendChild(row);
  }
  function shown() { return tbody.rows.length; }
  async function load(fresh) {
    if (fresh) {
      query = paramsFromForm();
      next = null;
      tbody.replaceChildren();
      detail.hidden = true;
      ["csv", "ndjson"].forEach(function (format) {
        var params = new URLSearchParams(query);
        params.delete("limit");
        params.set("format", format);
        document.getElementById("export-" + format).href = "api/export?" + params.toString();
      });
    }
    var params = new URLSearchParams(query);
    if (next) params.set("after", next);
    more.disabled = true;
    say("Loading…");
    try {
      var res = await fetch("api/records?" + params.toString(), { headers: { accept: "application/json" } });
      var body = await res.json();
      if (!res.ok) {
        say("Refused: " + text(body && body.error), true);
        more.hidden = true;
        return;
      }
      body.records.forEach(addRow);
      next = body.next;
      more.hidden = next === null;
      say(shown() === 0 ? "No records match." : shown() + " records, newest first" + (next ? "; more below." : "."));
    } catch (err) {
      say("Could not load records: " + text(err && err.message), true);
    } finally {
      more.disabled = false;
    }
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var params = paramsFromForm();
    history.pushState(null, "", "?" + params.toString());
    load(true);
  });
  document.getElementById("clear").addEventListener("click", function () {
    form.reset();
    history.pushState(null, "", "?");
    load(true);
  });
  more.addEventListener("click", function () { load(false); });
  document.getElementById("close").addEventListener("click", function () {
    detail.hidden = true;
    if (selected) selected.classList.remove("selected");
  });
  window.addEventListener("popstate", function () {
    fillForm(new URLSearchParams(location.search));
    load(true);
  });
  fillForm(new URLSearchParams(location.search));
  load(true);
})();
`;
