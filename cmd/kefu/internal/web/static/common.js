// Kefu pages: small helpers shared by the agent desktop and the wallboard.
"use strict";

const kefu = (() => {
  // byId returns the element with the data-testid.
  const byId = (id) => document.querySelector(`[data-testid="${CSS.escape(id)}"]`);

  // el builds an element: el("td", {class: "num", "data-testid": "x"}, "text", child…).
  function el(tag, attrs, ...children) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      n.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return n;
  }

  // call sends a JSON request with the session cookie and returns
  // {status, body}; it never throws for an HTTP error.
  async function call(method, path, body) {
    const opts = { method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    try {
      const res = await fetch(path, opts);
      let data = null;
      try { data = await res.json(); } catch (_) { /* empty body */ }
      return { status: res.status, body: data };
    } catch (e) {
      return { status: 0, body: { error: "network: " + e.message } };
    }
  }

  // duration formats seconds as m:ss or h:mm:ss.
  function duration(s) {
    if (s === null || s === undefined || !isFinite(s)) return "–";
    s = Math.max(0, Math.floor(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const pad = (x) => String(x).padStart(2, "0");
    return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
  }

  const percent = (f) => (f === null || f === undefined || !isFinite(f)) ? "–" : `${Math.round(f * 100)}%`;
  const secs = (s) => (s === null || s === undefined || !isFinite(s)) ? "–" : `${s.toFixed(1)} s`;

  const stateLabels = {
    ready: "就绪 ready", not_ready: "未就绪 not_ready", offered: "振铃 offered", talking: "通话 talking",
    wrap_up: "话后 wrap_up", logged_out: "签出 logged_out", queued: "排队 queued",
  };
  const stateLabel = (s) => stateLabels[s] || s || "–";

  // Server time: each snapshot carries the server's clock (ms); the skew
  // keeps "time in state" right when the browser's clock is off.
  let skew = 0;
  const serverNow = () => Date.now() - skew;
  const since = (iso) => iso ? (serverNow() - Date.parse(iso)) / 1000 : null;

  // stream opens a server-sent event stream and calls onSnapshot with each
  // snapshot, onProblem with a server-side error, onConn with "live"/"down".
  function stream(path, onSnapshot, onProblem, onConn) {
    const es = new EventSource(path);
    es.onopen = () => onConn && onConn("live");
    es.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      skew = Date.now() - msg.now;
      onConn && onConn("live");
      onSnapshot(msg.snapshot);
    };
    es.addEventListener("problem", (ev) => onProblem && onProblem(JSON.parse(ev.data).error));
    es.onerror = () => onConn && onConn("down");
    return es;
  }

  async function signOut(to) {
    await call("POST", "/api/logout");
    location.href = to;
  }

  return { byId, el, call, duration, percent, secs, stateLabel, since, stream, signOut };
})();
