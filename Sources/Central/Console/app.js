// The officers' console: plain DOM, no framework, no build step.
// Its server side is Sources/Central/ConsoleRoutes.swift (the JSON API) and
// OfficersConsole.swift (the live snapshot); scripts/console-browser-test.py
// drives the data-testid hooks. Every piece of data goes in with
// textContent: nothing from the server is parsed as HTML.
"use strict";

(function () {
  const I18N = window.LK_I18N;
  const LANG_KEY = "lk-console-lang";
  const BACKOFF_MAX_MS = 10000;
  const NOTICE_MS = 12000;

  const state = {
    lang: initialLanguage(),
    session: null, // {officer, controlPoint, csrf}
    snapshot: null,
    socket: null,
    backoffMs: 1000,
    reconnectTimer: null,
    lanes: new Map(), // lane id -> card parts
    calls: new Map(), // call id -> row parts
    conflicts: new Map(), // offline crossing id -> row parts
    override: null, // {lane, decision}
    confirmAction: null,
    watchLoaded: false,
    crossingsLoaded: false,
  };

  const $ = (id) => document.getElementById(id);

  // MARK: Language

  function initialLanguage() {
    let saved = null;
    try {
      saved = window.localStorage.getItem(LANG_KEY);
    } catch (e) {
      saved = null; // storage off: fall back to the browser's language
    }
    if (saved === "en" || saved === "zh-Hant") return saved;
    const wanted = (navigator.language || "en").toLowerCase();
    return wanted.startsWith("zh") ? "zh-Hant" : "en";
  }

  function t(key, vars) {
    const table = I18N[state.lang] || I18N.en;
    let text = table[key];
    if (text === undefined) text = I18N.en[key];
    if (text === undefined) text = key;
    if (vars) {
      for (const [name, value] of Object.entries(vars)) {
        text = text.split("{" + name + "}").join(String(value));
      }
    }
    return text;
  }

  /** The board words' key in the snapshot for the chosen language. */
  function boardKey() {
    return state.lang === "zh-Hant" ? "zhHant" : "en";
  }

  function applyStaticText() {
    document.documentElement.lang = state.lang;
    document.title = t("title");
    for (const node of document.querySelectorAll("[data-i18n]")) {
      node.textContent = t(node.dataset.i18n);
    }
    for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
      node.placeholder = t(node.dataset.i18nPlaceholder);
      node.setAttribute("aria-label", t(node.dataset.i18nPlaceholder));
    }
    const toggle = $("lang-toggle");
    toggle.textContent = t("lang.other");
    toggle.setAttribute("lang", state.lang === "en" ? "zh-Hant" : "en");
  }

  function setLanguage(lang) {
    state.lang = lang;
    try {
      window.localStorage.setItem(LANG_KEY, lang);
    } catch (e) {
      // Not remembered; the choice still holds for this page.
    }
    applyStaticText();
    if (state.snapshot) {
      // Rebuilt so that every dynamic label follows; inputs keep their values.
      for (const parts of state.calls.values()) parts.controlsKey = null;
      render(state.snapshot);
    }
    if (state.watchLoaded) renderWatch(state.watchItems || []);
    if (state.crossingsLoaded) renderCrossings(state.crossingItems || []);
    setLive(state.socket && state.socket.readyState === WebSocket.OPEN);
  }

  // MARK: Small helpers

  /** Element with attributes; `text` goes in as textContent, never HTML. */
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [name, value] of Object.entries(attrs)) {
        if (value === null || value === undefined || value === false) continue;
        if (name === "class") node.className = value;
        else node.setAttribute(name, value === true ? "" : String(value));
      }
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /** Hong Kong time of day, HH:MM:SS (Hong Kong has no summer time). */
  function hkTime(iso) {
    if (!iso) return "";
    const ms = Date.parse(iso);
    if (Number.isNaN(ms)) return "";
    const d = new Date(ms + 8 * 3600 * 1000);
    const two = (n) => String(n).padStart(2, "0");
    return two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + ":" + two(d.getUTCSeconds());
  }

  function hkDateTime(iso) {
    if (!iso) return "";
    const ms = Date.parse(iso);
    if (Number.isNaN(ms)) return "";
    const d = new Date(ms + 8 * 3600 * 1000);
    const two = (n) => String(n).padStart(2, "0");
    return d.getUTCFullYear() + "-" + two(d.getUTCMonth() + 1) + "-" + two(d.getUTCDate()) + " " + hkTime(iso);
  }

  function setText(node, text) {
    const value = text === null || text === undefined ? "" : String(text);
    if (node.textContent !== value) node.textContent = value;
  }

  function setAttr(node, name, value) {
    if (node.getAttribute(name) !== value) node.setAttribute(name, value);
  }

  let noticeTimer = null;
  function notify(text, kind) {
    const notice = $("notice");
    notice.textContent = text;
    notice.className = "notice " + (kind === "ok" ? "notice-ok" : "notice-error");
    notice.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => {
      notice.hidden = true;
    }, NOTICE_MS);
  }

  // MARK: HTTP

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
      this.detail = detail;
    }
  }

  /** One call to /console/api; throws ApiError with the server's detail. */
  async function api(method, path, body) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && path !== "/console/api/login" && state.session) {
      headers["X-CSRF-Token"] = state.session.csrf;
    }
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch (e) {
      throw new ApiError(0, t("error.network"));
    }
    let data = null;
    const text = await response.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (e) {
        data = null;
      }
    }
    if (response.ok) return data;
    const detail = (data && (data.detail || data.title)) || response.status + " " + response.statusText;
    if (response.status === 401 && path !== "/console/api/login") {
      sessionGone();
    }
    throw new ApiError(response.status, detail);
  }

  /** Runs an officer's action: disables `button` meanwhile, shows refusals. */
  async function act(button, method, path, body, okText) {
    if (button) button.disabled = true;
    try {
      const result = await api(method, path, body);
      if (okText) notify(okText, "ok");
      if (!socketOpen()) refreshSnapshot();
      return result;
    } catch (e) {
      if (e.status !== 401) notify(e.detail, "error");
      return undefined;
    } finally {
      if (button) button.disabled = false;
    }
  }

  // MARK: Session

  function showLogin(message) {
    $("console").hidden = true;
    $("who").hidden = true;
    $("logout").hidden = true;
    $("live").hidden = true;
    $("alert").hidden = true;
    $("login").hidden = false;
    const error = $("login-error");
    error.textContent = message || "";
    error.hidden = !message;
    $("login-password").value = "";
    $("login-submit").disabled = false;
    $("login-name").focus();
  }

  function enter(me) {
    state.session = { officer: me.officer, controlPoint: me.controlPoint, csrf: me.csrf };
    $("login").hidden = true;
    $("console").hidden = false;
    $("who").hidden = false;
    $("logout").hidden = false;
    $("live").hidden = false;
    setText($("officer-name"), me.officer);
    setText($("officer-cp"), t("header.controlPoint") + " " + (me.controlPoint || t("header.allControlPoints")));
    setLive(false);
    state.backoffMs = 1000;
    refreshSnapshot();
    connect();
    loadWatch();
  }

  /** The session ended (expired, logged out elsewhere, 401): back to login. */
  function sessionGone() {
    if (!state.session) return;
    leave();
    showLogin(t("login.expired"));
  }

  function leave() {
    state.session = null;
    state.snapshot = null;
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    if (state.socket) {
      const socket = state.socket;
      state.socket = null;
      socket.close();
    }
    for (const dialog of [$("override-dialog"), $("confirm-dialog")]) {
      if (dialog.open) dialog.close();
    }
    $("lanes").replaceChildren();
    $("calls").replaceChildren();
    $("conflicts").replaceChildren();
    $("conflicts-box").hidden = true;
    $("recent").replaceChildren();
    $("cp-strip").replaceChildren();
    $("watch-list").replaceChildren();
    $("crossing-list").replaceChildren();
    state.lanes.clear();
    state.calls.clear();
    state.conflicts.clear();
    state.watchLoaded = false;
    state.crossingsLoaded = false;
    document.body.classList.remove("has-escalated");
  }

  async function login(event) {
    event.preventDefault();
    const name = $("login-name").value.trim();
    const password = $("login-password").value;
    const error = $("login-error");
    $("login-submit").disabled = true;
    try {
      const me = await api("POST", "/console/api/login", { name, password });
      error.textContent = "";
      $("login-password").value = "";
      enter(me);
    } catch (e) {
      error.textContent = e.detail || t("login.refused");
      error.hidden = false;
      $("login-password").value = "";
      $("login-password").focus();
    } finally {
      $("login-submit").disabled = false;
    }
  }

  async function logout() {
    try {
      await api("POST", "/console/api/logout");
    } catch (e) {
      // Logged out either way: the page forgets the session.
    }
    leave();
    showLogin("");
  }

  // MARK: Live updates

  function socketOpen() {
    return state.socket !== null && state.socket.readyState === WebSocket.OPEN;
  }

  function setLive(up) {
    const live = $("live");
    live.className = "live " + (up ? "live-up" : "live-down");
    live.textContent = up ? t("live.up") : t("live.down");
  }

  function connect() {
    if (!state.session) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(scheme + "//" + location.host + "/console/live");
    state.socket = socket;
    socket.addEventListener("open", () => {
      if (state.socket !== socket) return;
      state.backoffMs = 1000;
      setLive(true);
    });
    socket.addEventListener("message", (event) => {
      if (state.socket !== socket) return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (message.type === "snapshot" && message.snapshot) {
        render(message.snapshot);
      } else if (message.type === "expired") {
        sessionGone();
      }
    });
    socket.addEventListener("close", () => {
      if (state.socket !== socket) return;
      state.socket = null;
      setLive(false);
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    if (!state.session) return;
    const wait = state.backoffMs;
    state.backoffMs = Math.min(state.backoffMs * 2, BACKOFF_MAX_MS);
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = setTimeout(async () => {
      state.reconnectTimer = null;
      if (!state.session) return;
      // A refused WebSocket upgrade hides its status; /me tells a dead
      // session (401, back to login) from a server that is just away.
      try {
        await api("GET", "/console/api/me");
      } catch (e) {
        if (e.status === 401) return;
        scheduleReconnect();
        return;
      }
      connect();
    }, wait);
  }

  async function refreshSnapshot() {
    try {
      const snapshot = await api("GET", "/console/api/snapshot");
      if (snapshot && state.session) render(snapshot);
    } catch (e) {
      if (e.status !== 401) notify(e.detail, "error");
    }
  }

  // MARK: Rendering

  function render(snapshot) {
    state.snapshot = snapshot;
    setText($("clock"), t("header.clock") + " " + hkTime(snapshot.now));
    if (snapshot.officer) {
      setText($("officer-name"), snapshot.officer.name);
      setText(
        $("officer-cp"),
        t("header.controlPoint") + " " + (snapshot.officer.controlPoint || t("header.allControlPoints"))
      );
    }
    renderControlPoints(snapshot.controlPoints || []);
    renderLanes(snapshot.lanes || []);
    renderCalls(snapshot.calls || []);
    renderRecent(snapshot.recentCalls || []);
    renderAlert(snapshot.calls || []);
    renderConflicts(snapshot.conflicts || []);
  }

  // Reconciliation conflicts: rows are kept across snapshots (like calls)
  // so that a note being typed survives a refresh.
  function renderConflicts(conflicts) {
    const list = $("conflicts");
    const seen = new Set();
    for (const conflict of conflicts) {
      seen.add(conflict.id);
      let parts = state.conflicts.get(conflict.id);
      if (!parts) {
        parts = buildConflict(conflict.id);
        state.conflicts.set(conflict.id, parts);
      }
      updateConflict(parts, conflict);
      list.append(parts.row); // keeps the server's order, newest first
    }
    for (const [id, parts] of state.conflicts) {
      if (!seen.has(id)) {
        parts.row.remove();
        state.conflicts.delete(id);
      }
    }
    $("conflicts-box").hidden = conflicts.length === 0;
    setText($("conflicts-count"), conflicts.length ? t("conflicts.count", { count: conflicts.length }) : "");
  }

  function buildConflict(id) {
    const p = { id };
    p.row = el("li", { class: "row", "data-testid": "conflict", "data-id": String(id) });
    const body = el("div", { class: "row-body" });
    p.title = el("div");
    p.why = el("div", { class: "conflict-why", "data-testid": "conflict-why" });
    p.meta = el("div", { class: "muted small" });
    body.append(p.title, p.why, p.meta);
    p.note = el("input", { type: "text", class: "conflict-note", maxlength: "500", "data-testid": "conflict-note" });
    p.ack = el("button", { type: "button", class: "warn", "data-testid": "conflict-acknowledge" });
    p.ack.addEventListener("click", async () => {
      const note = p.note.value.trim();
      const done = await act(
        p.ack,
        "POST",
        "/console/api/reconciliation/" + id + "/acknowledge",
        note ? { note } : undefined,
        t("conflicts.done")
      );
      if (done !== undefined) p.note.value = "";
    });
    p.row.append(body, p.note, p.ack);
    return p;
  }

  function updateConflict(p, c) {
    p.title.replaceChildren(el("strong", null, c.vrn), " ", el("span", { class: "badge" }, c.ubr ? "UBR " + c.ubr : ""));
    setText(p.why, c.conflict || "");
    setText(
      p.meta,
      t("conflicts.meta", {
        lane: c.lane,
        passage: c.passageId,
        time: hkDateTime(c.decidedAt),
        instruction: t("instruction." + c.instruction),
        reason: t("reason." + c.reason),
      })
    );
    setAttr(p.note, "placeholder", t("conflicts.note"));
    setAttr(p.note, "aria-label", t("conflicts.note"));
    setText(p.ack, t("conflicts.acknowledge"));
  }

  function renderControlPoints(points) {
    const strip = $("cp-strip");
    strip.replaceChildren();
    for (const cp of points) {
      const box = el("div", { class: "cp-item" + (cp.offline ? " is-offline" : "") });
      box.append(el("strong", null, cp.id));
      box.append(el("span", { class: "muted" }, t(cp.lanes === 1 ? "cp.lane" : "cp.lanes", { n: cp.lanes })));
      if (cp.offline) box.append(el("span", { class: "badge badge-offline" }, t("cp.offlineBadge")));
      const button = el(
        "button",
        { type: "button", class: cp.offline ? "" : "warn", "data-testid": "cp-offline", "data-cp": cp.id },
        cp.offline ? t("cp.offlineOff", { cp: cp.id }) : t("cp.offlineOn", { cp: cp.id })
      );
      button.addEventListener("click", () => {
        const path = "/console/api/control-points/" + encodeURIComponent(cp.id) + "/offline";
        if (cp.offline) {
          act(button, "POST", path, { on: false }, t("done.sent"));
        } else {
          askConfirm(t("confirm.cpOffline", { cp: cp.id }), () =>
            act(button, "POST", path, { on: true }, t("done.sent"))
          );
        }
      });
      box.append(button);
      strip.append(box);
    }
  }

  function renderLanes(lanes) {
    const grid = $("lanes");
    const seen = new Set();
    for (const lane of lanes) {
      seen.add(lane.id);
      let parts = state.lanes.get(lane.id);
      if (!parts) {
        parts = buildLane(lane.id);
        state.lanes.set(lane.id, parts);
      }
      updateLane(parts, lane);
      grid.append(parts.card); // keeps the server's order
    }
    for (const [id, parts] of state.lanes) {
      if (!seen.has(id)) {
        parts.card.remove();
        state.lanes.delete(id);
      }
    }
    $("lanes-empty").hidden = lanes.length > 0;
  }

  function buildLane(id) {
    const p = { id };
    p.card = el("article", { class: "lane-card", "data-testid": "lane", "data-lane": id });
    const head = el("header", { class: "lane-head" });
    p.name = el("h3", { class: "lane-id" }, id);
    p.direction = el("span", { class: "muted" });
    p.link = el("span", { class: "badge", "data-testid": "lane-link" });
    p.open = el("span", { class: "badge", "data-testid": "lane-open" });
    p.offline = el("span", { class: "badge badge-offline", "data-testid": "lane-offline" });
    const badges = el("div", { class: "badges" });
    badges.append(p.link, p.open, p.offline);
    head.append(p.name, p.direction, badges);

    const vehicle = el("div", { class: "vehicle" });
    p.vrn = el("div", { class: "vrn", "data-testid": "lane-vrn" });
    p.instruction = el("div", { class: "instruction", "data-testid": "lane-instruction", "data-instruction": "" });
    p.reason = el("div", { class: "reason", "data-testid": "lane-reason" });
    p.vehicleMeta = el("div", { class: "muted small" });
    vehicle.append(p.vrn, p.instruction, p.reason, p.vehicleMeta);

    const boards = el("dl", { class: "boards" });
    p.xdbLabel = el("dt");
    p.xdb = el("dd", { "data-testid": "lane-xdb" });
    p.aiopLabel = el("dt");
    p.aiop = el("dd", { "data-testid": "lane-aiop" });
    p.messageLabel = el("dt");
    p.message = el("dd", { "data-testid": "lane-message" });
    p.helpLabel = el("dt");
    p.help = el("dd", { class: "lane-help", "data-testid": "lane-help", "data-help": "" });
    boards.append(p.xdbLabel, p.xdb, p.aiopLabel, p.aiop, p.messageLabel, p.message, p.helpLabel, p.help);

    p.faults = el("ul", { class: "faults" });
    p.lastEvent = el("div", { class: "muted small" });
    p.offlineCrossings = el("div", { class: "small lane-offline-crossings", "data-testid": "lane-offline-crossings" });

    const actions = el("div", { class: "lane-actions" });
    p.release = el("button", { type: "button", class: "go", "data-testid": "lane-release" });
    p.divert = el("button", { type: "button", class: "danger", "data-testid": "lane-divert" });
    p.toggleOpen = el("button", { type: "button", "data-testid": "lane-toggle-open" });
    p.toggleOffline = el("button", { type: "button", "data-testid": "lane-toggle-offline" });
    actions.append(p.release, p.divert, p.toggleOpen, p.toggleOffline);

    p.release.addEventListener("click", () => openOverride(id, "release"));
    p.divert.addEventListener("click", () => openOverride(id, "divert"));
    p.toggleOpen.addEventListener("click", () => {
      const lane = currentLane(id);
      if (!lane) return;
      const base = "/console/api/lanes/" + encodeURIComponent(id);
      if (lane.open) {
        askConfirm(t("confirm.closeLane", { lane: id }), () =>
          act(p.toggleOpen, "POST", base + "/close", undefined, t("done.sent"))
        );
      } else {
        act(p.toggleOpen, "POST", base + "/open", undefined, t("done.sent"));
      }
    });
    p.toggleOffline.addEventListener("click", () => {
      const lane = currentLane(id);
      if (!lane) return;
      const path = "/console/api/lanes/" + encodeURIComponent(id) + "/offline";
      if (lane.offline) {
        act(p.toggleOffline, "POST", path, { on: false }, t("done.sent"));
      } else {
        askConfirm(t("confirm.laneOffline", { lane: id }), () =>
          act(p.toggleOffline, "POST", path, { on: true }, t("done.sent"))
        );
      }
    });

    p.card.append(head, vehicle, boards, p.faults, p.lastEvent, p.offlineCrossings, actions);
    return p;
  }

  function currentLane(id) {
    if (!state.snapshot) return null;
    return (state.snapshot.lanes || []).find((lane) => lane.id === id) || null;
  }

  function updateLane(p, lane) {
    const key = boardKey();
    setText(p.direction, lane.direction === "export" ? t("lane.export") : t("lane.import"));
    const up = lane.link === "up";
    // In a cluster: which node the lane is linked to.
    setText(p.link, (up ? t("lane.linkUp") : t("lane.linkDown")) + (up && lane.node ? " · " + lane.node : ""));
    setAttr(p.link, "data-link", up ? "up" : "down");
    p.link.className = "badge " + (up ? "badge-up" : "badge-down");
    setText(p.open, lane.open ? t("lane.open") : t("lane.closed"));
    setAttr(p.open, "data-open", lane.open ? "true" : "false");
    p.open.className = "badge " + (lane.open ? "badge-open" : "badge-closed");
    setText(p.offline, t("lane.offline"));
    p.offline.hidden = !lane.offline;

    const vehicle = lane.vehicle;
    const instruction = vehicle ? vehicle.instruction || "" : "";
    setText(p.vrn, vehicle ? vehicle.vrn : t("lane.noVehicle"));
    p.vrn.classList.toggle("is-empty", !vehicle);
    setAttr(p.instruction, "data-instruction", instruction);
    setText(p.instruction, instruction ? t("instruction." + instruction) : t("instruction.none"));
    p.instruction.className = "instruction" + (instruction ? " instr-" + instruction : "");
    setText(p.reason, vehicle && vehicle.reason ? t("reason." + vehicle.reason) : "");
    setAttr(p.reason, "data-reason", vehicle && vehicle.reason ? vehicle.reason : "");
    const meta = [];
    if (vehicle && vehicle.since) meta.push(t("lane.since", { time: hkTime(vehicle.since) }));
    if (vehicle && vehicle.officer) meta.push(t("lane.byOfficer", { name: vehicle.officer }));
    setText(p.vehicleMeta, meta.join(" · "));

    const boards = lane.boards || {};
    setText(p.xdbLabel, t("lane.xdb"));
    setText(p.xdb, boards.xdb ? boards.xdb[key] : "");
    setText(p.aiopLabel, t("lane.aiop"));
    setText(p.aiop, boards.aiop ? boards.aiop[key] : "");
    setText(p.messageLabel, t("lane.message"));
    const message = boards.message;
    if (message) {
      const words = [message[key], message.text].filter((s) => s);
      setText(p.message, words.join(" — "));
      setAttr(p.message, "data-phrase", String(message.phraseId));
    } else {
      setText(p.message, "—");
      setAttr(p.message, "data-phrase", "");
    }
    setText(p.helpLabel, t("lane.help"));
    const help = lane.help ? lane.help.state : "";
    setAttr(p.help, "data-help", help);
    setText(p.help, help ? t("help." + help) : t("help.idle"));
    p.card.classList.toggle("is-ringing", help === "ringing");
    const escalated = (state.snapshot.calls || []).some(
      (call) => call.lane === lane.id && call.escalated && call.state === "ringing"
    );
    p.card.classList.toggle("is-escalated", escalated);
    p.card.classList.toggle("is-down", !up);

    p.faults.replaceChildren();
    for (const fault of lane.faults || []) p.faults.append(el("li", null, fault));
    p.faults.hidden = !(lane.faults && lane.faults.length);
    setText(p.lastEvent, lane.lastEventAt ? t("lane.lastEvent", { time: hkTime(lane.lastEventAt) }) : "");
    const received = lane.offlineReceived || 0;
    const openConflicts = lane.conflictsOpen || 0;
    setText(p.offlineCrossings, received ? t("lane.offlineCrossings", { received, open: openConflicts }) : "");
    setAttr(p.offlineCrossings, "data-open", String(openConflicts));
    p.offlineCrossings.hidden = received === 0;
    p.offlineCrossings.classList.toggle("is-hot", openConflicts > 0);

    setText(p.release, t("lane.release"));
    setText(p.divert, t("lane.divert"));
    const overridable = Boolean(vehicle && vehicle.overridable);
    p.release.disabled = !overridable;
    p.divert.disabled = !overridable;
    setText(p.toggleOpen, lane.open ? t("lane.close") : t("lane.openAction"));
    p.toggleOpen.className = lane.open ? "warn" : "";
    setText(p.toggleOffline, lane.offline ? t("lane.offlineOff") : t("lane.offlineOn"));
    p.toggleOffline.className = lane.offline ? "" : "warn";
  }

  function phraseLabel(phrase) {
    // The officer's language first, then what the driver will read.
    const order = state.lang === "zh-Hant" ? ["zhHant", "en", "zhHans"] : ["en", "zhHant", "zhHans"];
    const words = [];
    for (const k of order) if (phrase[k] && !words.includes(phrase[k])) words.push(phrase[k]);
    return phrase.id + ". " + words.join(" · ");
  }

  function phraseWords(phraseId) {
    const phrases = (state.snapshot && state.snapshot.phrases) || [];
    const phrase = phrases.find((p) => p.id === phraseId);
    if (!phrase) return "#" + phraseId;
    return phrase[boardKey()] || phrase.en;
  }

  function renderCalls(calls) {
    const list = $("calls");
    const seen = new Set();
    for (const call of calls) {
      seen.add(call.id);
      let parts = state.calls.get(call.id);
      if (!parts) {
        parts = buildCall(call.id);
        state.calls.set(call.id, parts);
      }
      updateCall(parts, call);
      list.append(parts.row); // oldest first, as the server orders them
    }
    for (const [id, parts] of state.calls) {
      if (!seen.has(id)) {
        parts.row.remove();
        state.calls.delete(id);
      }
    }
    $("calls-empty").hidden = calls.length > 0;
    const ringing = calls.filter((c) => c.state === "ringing").length;
    setText($("calls-count"), calls.length ? t("calls.count", { ringing, total: calls.length }) : "");
    $("calls-count").classList.toggle("is-hot", ringing > 0);
  }

  function buildCall(id) {
    const p = { id, controlsKey: null };
    p.row = el("li", { class: "call", "data-testid": "call", "data-call": String(id) });
    const top = el("div", { class: "call-top" });
    p.lane = el("button", { type: "button", class: "linkish call-lane" });
    p.vrn = el("span", { class: "call-vrn" });
    p.stateBadge = el("span", { class: "badge call-state" });
    top.append(p.lane, p.vrn, p.stateBadge);
    p.times = el("div", { class: "muted small" });
    p.owner = el("div", { class: "call-owner", "data-testid": "call-owner" });
    p.controls = el("div", { class: "call-controls" });
    p.messages = el("ul", { class: "call-messages small" });
    p.row.append(top, p.times, p.owner, p.controls, p.messages);
    p.lane.addEventListener("click", () => {
      const lane = state.lanes.get(p.laneId);
      if (!lane) return;
      lane.card.scrollIntoView({ block: "nearest", behavior: "smooth" });
      lane.card.classList.add("is-pointed");
      setTimeout(() => lane.card.classList.remove("is-pointed"), 1500);
    });
    return p;
  }

  function updateCall(p, call) {
    p.laneId = call.lane;
    setAttr(p.row, "data-lane", call.lane);
    setAttr(p.row, "data-state", call.state);
    setAttr(p.row, "data-escalated", call.escalated ? "true" : "false");
    // Loud only while nobody has it: once answered the call is in hand.
    const loud = call.escalated && call.state === "ringing";
    p.row.className = "call call-" + call.state + (loud ? " is-escalated" : "") + (call.mine ? " is-mine" : "");
    setText(p.lane, call.lane);
    setText(p.vrn, call.vrn || t("call.noVrn"));
    if (loud) {
      setText(p.stateBadge, t("call.escalated"));
    } else {
      setText(p.stateBadge, call.state === "ringing" ? t("call.ringing") : t("call.answered"));
    }
    const times = [t("call.rang", { time: hkTime(call.rangAt) })];
    if (call.answeredAt) times.push(t("call.answeredAt", { time: hkTime(call.answeredAt) }));
    setText(p.times, times.join(" · "));
    if (call.mine) setText(p.owner, t("call.mine"));
    else if (call.officer) setText(p.owner, t("call.takenBy", { name: call.officer }));
    else setText(p.owner, t("call.unowned"));

    // The controls are rebuilt only when what they offer changes, so that a
    // snapshot arriving mid-typing keeps the officer's phrase and text.
    const key = call.state + "|" + (call.mine ? "mine" : "other") + "|" + (call.officer || "");
    if (p.controlsKey !== key) {
      const keep = p.phrase ? { phrase: p.phrase.value, text: p.text.value } : null;
      p.controlsKey = key;
      p.controls.replaceChildren();
      p.phrase = null;
      p.text = null;
      if (call.state === "ringing") {
        const answer = el("button", { type: "button", class: "primary", "data-testid": "call-answer" }, t("call.answer"));
        answer.addEventListener("click", () =>
          act(answer, "POST", "/console/api/calls/" + call.id + "/answer", undefined, null)
        );
        p.controls.append(answer);
      } else if (call.state === "answered" && call.mine) {
        buildMineControls(p, call.id, keep);
      }
    }
    p.messages.replaceChildren();
    for (const message of call.messages || []) {
      const words = [phraseWords(message.phraseId), message.text].filter((s) => s).join(" — ");
      p.messages.append(el("li", null, hkTime(message.at) + " " + message.officer + ": " + words));
    }
    p.messages.hidden = !(call.messages && call.messages.length);
  }

  function buildMineControls(p, callId, keep) {
    const form = el("form", { class: "call-form" });
    const phrase = el("select", { "data-testid": "call-phrase", "aria-label": t("call.phrase") });
    for (const item of (state.snapshot && state.snapshot.phrases) || []) {
      phrase.append(el("option", { value: String(item.id) }, phraseLabel(item)));
    }
    const text = el("input", {
      type: "text",
      maxlength: "80",
      "data-testid": "call-text",
      placeholder: t("call.text"),
      "aria-label": t("call.text"),
    });
    if (keep) {
      phrase.value = keep.phrase;
      text.value = keep.text;
    }
    const send = el("button", { type: "submit", class: "primary", "data-testid": "call-send" }, t("call.send"));
    const end = el("button", { type: "button", class: "warn", "data-testid": "call-end" }, t("call.end"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { phraseId: Number(phrase.value) };
      if (text.value.trim()) body.text = text.value.trim();
      const result = await act(send, "POST", "/console/api/calls/" + callId + "/message", body, t("call.sent"));
      if (result !== undefined) text.value = "";
    });
    end.addEventListener("click", () => act(end, "POST", "/console/api/calls/" + callId + "/end", undefined, null));
    form.append(phrase, text, send, end);
    p.controls.append(form);
    p.phrase = phrase;
    p.text = text;
  }

  function renderRecent(calls) {
    const list = $("recent");
    list.replaceChildren();
    for (const call of calls) {
      const who = call.endedBy === "lane" ? t("call.endedByLane") : call.endedBy || "";
      const row = el("li", { class: "small" });
      row.append(el("strong", null, call.lane), " ");
      row.append(el("span", null, call.vrn || t("call.noVrn")), " ");
      row.append(el("span", { class: "muted" }, t("call.rang", { time: hkTime(call.rangAt) })), " · ");
      row.append(el("span", { class: "muted" }, t("call.endedAt", { time: hkTime(call.endedAt), who })));
      list.append(row);
    }
    $("recent-box").hidden = calls.length === 0;
  }

  function renderAlert(calls) {
    const loud = calls.filter((c) => c.escalated && c.state === "ringing");
    const alert = $("alert");
    if (loud.length) {
      alert.textContent = t("alert.escalated", { lanes: loud.map((c) => c.lane).join(", ") });
      alert.hidden = false;
      document.body.classList.add("has-escalated");
      document.title = "(!) " + t("title");
    } else {
      alert.hidden = true;
      document.body.classList.remove("has-escalated");
      document.title = t("title");
    }
  }

  // MARK: Override and confirmation

  function openOverride(laneId, decision) {
    const lane = currentLane(laneId);
    if (!lane || !lane.vehicle) return;
    state.override = { lane: laneId, decision };
    setText($("override-title"), t(decision === "release" ? "override.release" : "override.divert", { lane: laneId }));
    setText(
      $("override-effect"),
      t(decision === "release" ? "override.releaseEffect" : "override.divertEffect", { vrn: lane.vehicle.vrn })
    );
    $("override-submit").className = decision === "release" ? "go" : "danger";
    $("override-reason").value = "";
    setText($("override-error"), "");
    $("override-dialog").showModal();
    $("override-reason").focus();
  }

  async function submitOverride(event) {
    event.preventDefault();
    const pending = state.override;
    if (!pending) return;
    const reason = $("override-reason").value.trim();
    if (!reason) {
      setText($("override-error"), t("override.reasonMissing"));
      $("override-reason").focus();
      return;
    }
    const submit = $("override-submit");
    submit.disabled = true;
    try {
      await api("POST", "/console/api/lanes/" + encodeURIComponent(pending.lane) + "/override", {
        decision: pending.decision,
        reason,
      });
      state.override = null;
      $("override-dialog").close();
      notify(t("override.sent", { lane: pending.lane }), "ok");
      if (!socketOpen()) refreshSnapshot();
    } catch (e) {
      if (e.status !== 401) {
        setText($("override-error"), e.detail);
        notify(e.detail, "error");
      }
    } finally {
      submit.disabled = false;
    }
  }

  function askConfirm(text, action) {
    state.confirmAction = action;
    setText($("confirm-text"), text);
    $("confirm-dialog").showModal();
    $("confirm-cancel").focus();
  }

  // MARK: Watch list and crossings

  async function loadWatch() {
    try {
      const data = await api("GET", "/console/api/watchlist");
      state.watchItems = (data && data.items) || [];
      state.watchLoaded = true;
      renderWatch(state.watchItems);
    } catch (e) {
      if (e.status !== 401) notify(e.detail, "error");
    }
  }

  function renderWatch(items) {
    const list = $("watch-list");
    list.replaceChildren();
    for (const item of items) {
      const row = el("li", { class: "row", "data-testid": "watch-entry", "data-id": String(item.id) });
      const body = el("div", { class: "row-body" });
      const first = el("div");
      first.append(el("span", { class: "badge" }, t("watch.kind." + item.kind)), " ", el("strong", null, item.value));
      body.append(first);
      if (item.note) body.append(el("div", { class: "small" }, item.note));
      body.append(el("div", { class: "muted small" }, t("watch.by", { who: item.addedBy, time: hkDateTime(item.addedAt) })));
      const remove = el("button", { type: "button", class: "warn", "data-testid": "watch-remove" }, t("watch.remove"));
      remove.addEventListener("click", () =>
        askConfirm(t("watch.remove") + ": " + item.value + "?", async () => {
          const done = await act(remove, "DELETE", "/console/api/watchlist/" + item.id, undefined, null);
          if (done !== undefined) loadWatch();
        })
      );
      row.append(body, remove);
      list.append(row);
    }
    $("watch-empty").hidden = items.length > 0;
  }

  async function addWatch(event) {
    event.preventDefault();
    const value = $("watch-value").value.trim();
    if (!value) return;
    const body = { kind: $("watch-kind").value, value, note: $("watch-note").value.trim() };
    const added = await act($("watch-add"), "POST", "/console/api/watchlist", body, null);
    if (added !== undefined) {
      $("watch-value").value = "";
      $("watch-note").value = "";
      loadWatch();
    }
  }

  async function searchCrossings(event) {
    if (event) event.preventDefault();
    const q = $("crossing-query").value.trim();
    try {
      const data = await api("GET", "/console/api/crossings?q=" + encodeURIComponent(q));
      state.crossingItems = (data && data.items) || [];
      state.crossingsLoaded = true;
      renderCrossings(state.crossingItems);
    } catch (e) {
      if (e.status !== 401) notify(e.detail, "error");
    }
  }

  function renderCrossings(items) {
    const list = $("crossing-list");
    list.replaceChildren();
    for (const item of items) {
      const row = el("li", { class: "row", "data-testid": "crossing", "data-id": String(item.id) });
      const body = el("div", { class: "row-body" });
      const first = el("div");
      first.append(
        el("strong", null, item.vrn),
        " ",
        el("span", { class: "muted" }, item.lane + " · " + hkDateTime(item.decidedAt))
      );
      const second = el("div");
      second.append(
        el("span", { class: "instruction-mini instr-" + item.instruction }, t("instruction." + item.instruction)),
        " ",
        el("span", { class: "small" }, item.reason ? t("reason." + item.reason) : "")
      );
      body.append(first, second);
      const refs = [];
      if (item.ubr) refs.push(item.ubr);
      for (const c of item.ccrns || []) refs.push(c);
      if (refs.length) body.append(el("div", { class: "muted small mono" }, refs.join(" ")));
      if (item.officer) body.append(el("div", { class: "muted small" }, t("lane.byOfficer", { name: item.officer })));
      row.append(body);
      list.append(row);
    }
    $("crossings-empty").hidden = items.length > 0;
  }

  function selectTab(which) {
    const watch = which === "watch";
    $("tab-watch").setAttribute("aria-selected", watch ? "true" : "false");
    $("tab-crossings").setAttribute("aria-selected", watch ? "false" : "true");
    $("panel-watch").hidden = !watch;
    $("panel-crossings").hidden = watch;
    if (!watch && !state.crossingsLoaded) searchCrossings();
  }

  // MARK: Start

  function start() {
    applyStaticText();
    $("login-form").addEventListener("submit", login);
    $("logout").addEventListener("click", logout);
    $("lang-toggle").addEventListener("click", () => setLanguage(state.lang === "en" ? "zh-Hant" : "en"));
    $("override-form").addEventListener("submit", submitOverride);
    $("override-cancel").addEventListener("click", () => {
      state.override = null;
      $("override-dialog").close();
    });
    $("override-dialog").addEventListener("close", () => {
      state.override = null;
    });
    $("confirm-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const action = state.confirmAction;
      state.confirmAction = null;
      $("confirm-dialog").close();
      if (action) action();
    });
    $("confirm-cancel").addEventListener("click", () => {
      state.confirmAction = null;
      $("confirm-dialog").close();
    });
    $("watch-form").addEventListener("submit", addWatch);
    $("crossing-form").addEventListener("submit", searchCrossings);
    $("tab-watch").addEventListener("click", () => selectTab("watch"));
    $("tab-crossings").addEventListener("click", () => selectTab("crossings"));

    api("GET", "/console/api/me").then(
      (me) => enter(me),
      (e) => showLogin(e.status === 401 || e.status === 0 ? (e.status === 0 ? e.detail : "") : e.detail)
    );
  }

  start();
})();
