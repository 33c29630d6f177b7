// The viewer's page: static markup only; app.js fills it, app.css styles it (no inline code).

/** `GET /`: the same bytes for everyone; no record, user or setting is ever written into it. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Audit trail</title>
<link rel="stylesheet" href="app.css">
<script src="app.js" defer></script>
</head>
<body>
<header><h1>Audit trail</h1></header>
<form id="filters" autocomplete="off">
  <label>Actor <input name="actor" maxlength="1024"></label>
  <label>Action <input name="action" maxlength="1024" placeholder="POST /orders/:id"></label>
  <label>Target type <input name="targetType" maxlength="1024"></label>
  <label>Target id <input name="targetId" maxlength="1024"></label>
  <label>Status <input name="status" list="statuses" maxlength="6" placeholder="404, 5xx, failed"></label>
  <datalist id="statuses">
    <option value="2xx"></option><option value="3xx"></option><option value="4xx"></option>
    <option value="5xx"></option><option value="failed"></option>
  </datalist>
  <label>From (local time) <input name="from" type="datetime-local" step="1"></label>
  <label>To (local time) <input name="to" type="datetime-local" step="1"></label>
  <label>Service <input name="service" maxlength="1024"></label>
  <label>Request id <input name="requestId" maxlength="1024"></label>
  <div class="actions">
    <button type="submit">Apply</button>
    <button type="button" id="clear">Clear</button>
    <a id="export-csv" class="button" href="api/export?format=csv" download>Export CSV</a>
    <a id="export-ndjson" class="button" href="api/export?format=ndjson" download>Export NDJSON</a>
  </div>
</form>
<p id="message" role="status"></p>
<main>
  <div class="list">
    <table id="records">
      <thead><tr><th>Time (local)</th><th>Actor</th><th>Action</th><th>Target</th><th>Status</th><th>Duration</th></tr></thead>
      <tbody></tbody>
    </table>
    <button type="button" id="more" hidden>More</button>
  </div>
  <aside id="detail" hidden>
    <div class="detail-head"><h2>Record</h2><button type="button" id="close">Close</button></div>
    <pre id="detail-json"></pre>
  </aside>
</main>
</body>
</html>
`;
