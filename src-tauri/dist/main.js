// The tray app's own page: server status and controls, API keys, settings.
// Talks to the Rust side only through commands and events (no key material
// ever arrives here: keys are shown as "hth_…abcd").
"use strict";

const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;
const $ = (id) => document.getElementById(id);

const PHASES = {
  stopped: "Stopped", starting: "Starting", running: "Running", restarting: "Restarting",
  stopping: "Stopping", failed: "Stopped after crashes", refused: "Port in use",
};
let status = null;

function showError(el, err) {
  el.textContent = String(err);
  el.className = "small error";
}

function renderStatus(s) {
  status = s;
  $("phase").textContent = PHASES[s.phase] || s.phase;
  $("phase").dataset.phase = s.phase;
  $("message").textContent = s.message;
  $("url").textContent = s.url;
  $("exposed").hidden = !s.exposed;
  $("pid").textContent = s.pid ? String(s.pid) : "—";
  $("pid").dataset.pid = s.pid ? String(s.pid) : "";
  const active = ["running", "starting", "restarting"].includes(s.phase);
  const btn = $("toggle-server");
  btn.textContent = active ? "Stop server" : "Start server";
  btn.dataset.action = active ? "stop" : "start";
  btn.disabled = s.phase === "stopping";
  const ul = $("models");
  ul.replaceChildren();
  if (!s.models.length) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = "None";
    ul.append(li);
  }
  for (const name of s.models) {
    const li = document.createElement("li");
    const code = document.createElement("code");
    code.textContent = name;
    const b = document.createElement("button");
    b.className = "small ghost";
    b.textContent = "Unload";
    b.onclick = () => invoke("unload_model", { name }).catch(console.error);
    li.append(code, b);
    ul.append(li);
  }
  $("exposed-pill").hidden = !s.exposed;
  if (s.phase === "running") probeWebUi(s.url);
  showView();
}

// The window's main view is the server's web UI (/ui/) in a frame, once
// the server runs and serves it; "App" holds what only the desktop app can
// do. The user's pick sticks; while the server is down the app view shows
// (with its Start button) and the web UI comes back when it is up again.
let wantedView = "ui";
let webUi = null; // the URL of the web UI once the server answered for it

async function probeWebUi(url) {
  if (webUi && webUi.startsWith(url)) return;
  try {
    const r = await fetch(url + "/ui/", { method: "HEAD" });
    if (r.ok) webUi = url + "/ui/";
  } catch (_) { /* not up yet: the next status tries again */ }
  showView();
}

function showView() {
  const available = !!webUi && status && status.phase === "running";
  const view = wantedView === "ui" && available ? "ui" : "app";
  $("view-ui").disabled = !available;
  $("view-ui").setAttribute("aria-pressed", String(view === "ui"));
  $("view-app").setAttribute("aria-pressed", String(view === "app"));
  $("ui-view").hidden = view !== "ui";
  $("app-view").hidden = view !== "app";
  document.body.dataset.view = view;
  const frame = $("webui");
  if (view === "ui" && frame.getAttribute("src") !== webUi) frame.setAttribute("src", webUi);
}

function pickView(view) {
  wantedView = view;
  showView();
}

function renderUpdate(u) {
  const el = $("update-state");
  el.dataset.state = u.state;
  el.className = "small";
  $("update-install").hidden = u.state !== "ready";
  switch (u.state) {
    case "idle": el.textContent = "Not checked yet."; break;
    case "checking": el.textContent = "Checking…"; break;
    case "current": el.textContent = `Hearth ${u.current} is up to date.`; break;
    case "ready":
      el.textContent = `Hearth ${u.version} is available (you have ${u.current}). ` +
        `Downloaded and signature verified` + (u.notes ? `: ${u.notes}` : ".");
      el.className = "small ok";
      break;
    case "installing": el.textContent = `Installing ${u.version}…`; break;
    case "failed": showError(el, `Update refused: ${u.error}`); el.dataset.state = "failed"; break;
    case "unreachable":
      el.textContent = "Could not reach the update server; Hearth will try again tomorrow.";
      el.title = u.error;
      el.className = "small muted";
      break;
  }
}

function renderKeys(keys) {
  const ul = $("keys");
  ul.replaceChildren();
  for (const k of keys) {
    const li = document.createElement("li");
    li.dataset.name = k.name;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = k.name;
    const hint = document.createElement("code");
    hint.textContent = k.hint;
    const sp = document.createElement("span");
    sp.className = "spacer";
    const mk = (label, fn) => {
      const b = document.createElement("button");
      b.className = "small ghost";
      b.textContent = label;
      b.dataset.action = label.toLowerCase();
      b.onclick = fn;
      return b;
    };
    li.append(name, hint, sp,
      mk("Check", async () => {
        try {
          const back = await invoke("key_check", { name: k.name });
          const same = back.hint === k.hint;
          $("key-result").textContent = same
            ? `Read back "${k.name}" from the keyring: ${back.hint} ✓`
            : `Keyring holds a different key for "${k.name}" (${back.hint})`;
          $("key-result").className = same ? "small ok" : "small error";
          $("key-result").dataset.check = same ? "ok" : "mismatch";
        } catch (e) { showError($("key-result"), e); }
      }),
      mk("Copy", async () => {
        try {
          await invoke("key_copy", { name: k.name });
          $("key-result").textContent = `Copied "${k.name}" to the clipboard.`;
          $("key-result").className = "small ok";
        } catch (e) { showError($("key-result"), e); }
      }),
      mk("Revoke", async () => {
        try {
          await invoke("key_revoke", { name: k.name });
          $("key-result").textContent = `Revoked "${k.name}".`;
          renderKeys(await invoke("keys_list"));
        } catch (e) { showError($("key-result"), e); }
      }));
    ul.append(li);
  }
}

async function refreshAutostart() {
  try {
    const a = await invoke("autostart_get");
    $("autostart").checked = a.enabled;
    $("autostart-prompt").hidden = a.asked;
  } catch (e) { console.error(e); }
}

async function setAutostart(enabled) {
  try {
    const a = await invoke("autostart_set", { enabled });
    $("autostart").checked = a.enabled;
    $("autostart-prompt").hidden = true;
  } catch (e) { alert(e); }
}

function wire() {
  $("toggle-server").onclick = async () => {
    const action = $("toggle-server").dataset.action;
    $("toggle-server").disabled = true;
    try { await invoke(action === "stop" ? "server_stop" : "server_start"); }
    catch (e) { showError($("message"), e); }
    renderStatus(await invoke("server_status"));
  };
  $("copy-url").onclick = () => invoke("copy_address");
  $("open-logs").onclick = async () => {
    try { $("log-dir").textContent = await invoke("open_logs"); }
    catch (e) { showError($("message"), `Cannot open the log folder: ${e}`); }
  };
  $("autostart").onchange = (e) => setAutostart(e.target.checked);
  $("autostart-yes").onclick = () => setAutostart(true);
  $("autostart-no").onclick = async () => {
    await invoke("autostart_dismiss");
    $("autostart-prompt").hidden = true;
  };
  $("key-create").onclick = async () => {
    const name = $("key-name").value.trim();
    $("key-result").textContent = "Creating…";
    $("key-result").className = "small";
    try {
      const k = await invoke("key_create", { name });
      $("key-result").textContent = `Created "${k.name}" (${k.hint}); it is in your keyring. Use Copy to paste it into an app.`;
      $("key-result").className = "small ok";
      $("key-name").value = "";
      renderKeys(await invoke("keys_list"));
    } catch (e) { showError($("key-result"), e); }
  };
  $("update-check").onclick = async () => {
    renderUpdate({ state: "checking" });
    renderUpdate(await invoke("update_check"));
  };
  $("update-install").onclick = async () => {
    try { await invoke("update_install"); } catch (e) { renderUpdate({ state: "failed", error: String(e) }); }
  };
  $("quit").onclick = () => invoke("quit");
  $("view-ui").onclick = () => pickView("ui");
  $("view-app").onclick = () => pickView("app");
}

async function main() {
  wire();
  const info = await invoke("app_info");
  $("version").textContent = info.version;
  $("log-dir").textContent = info.log_dir;
  $("keyring").textContent = info.keyring;
  renderStatus(await invoke("server_status"));
  renderUpdate(await invoke("update_state"));
  renderKeys(await invoke("keys_list"));
  await refreshAutostart();
  await listen("server-status", (e) => renderStatus(e.payload));
  await listen("update-status", (e) => renderUpdate(e.payload));
  await listen("autostart-changed", () => refreshAutostart());
  document.body.dataset.ready = "1";
}

main().catch((e) => { document.body.dataset.ready = "error"; showError($("message"), e); });
