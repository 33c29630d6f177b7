// The viewer page's style sheet, served as /app.css (the policy allows no inline style).

/** `GET /app.css`. */
export const PAGE_CSS = `:root { color-scheme: light; font: 14px/1.4 system-ui, sans-serif; }
body { margin: 0 1.5rem 2rem; color: #1d2330; background: #fafbfc; }
h1 { font-size: 1.4rem; margin: 1rem 0 .75rem; }
h2 { font-size: 1.1rem; margin: 0; }
form { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; padding: .75rem;
  background: #fff; border: 1px solid #d8dde6; border-radius: 6px; }
label { display: flex; flex-direction: column; font-size: .8rem; color: #4a5568; }
input { font: inherit; padding: .25rem .4rem; border: 1px solid #b8c0cc; border-radius: 4px; min-width: 9rem; }
.actions { display: flex; gap: .5rem; align-items: center; }
button, .button { font: inherit; padding: .3rem .8rem; border: 1px solid #2f5bd3; border-radius: 4px;
  background: #fff; color: #2f5bd3; cursor: pointer; text-decoration: none; }
button[type=submit] { background: #2f5bd3; color: #fff; }
#message { min-height: 1.4em; color: #4a5568; }
#message.error { color: #b42318; font-weight: 600; }
main { display: flex; gap: 1rem; align-items: flex-start; }
.list { flex: 1 1 auto; min-width: 0; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid #d8dde6; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #eef0f4;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 22rem; }
th { background: #f1f3f7; font-weight: 600; }
tbody tr { cursor: pointer; }
tbody tr:hover, tbody tr:focus { background: #eef3ff; outline: none; }
tbody tr.selected { background: #dde7ff; }
td.failed { color: #b42318; font-weight: 600; }
#more { margin: .75rem 0; }
aside { flex: 0 0 40%; max-width: 40%; background: #fff; border: 1px solid #d8dde6; border-radius: 6px;
  padding: .75rem; position: sticky; top: .5rem; }
.detail-head { display: flex; justify-content: space-between; align-items: center; }
pre { overflow: auto; max-height: 75vh; font-size: 12px; white-space: pre-wrap; word-break: break-all; }
[hidden] { display: none !important; }
`;
