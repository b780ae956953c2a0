// Kefu agent desktop: login, state buttons, the screen pop and the day's
// figures, live over /api/stream/agent.
"use strict";

(() => {
  const { byId, el, call, duration, secs, stateLabel, since, stream, signOut } = kefu;
  let me = null;      // agent id of the session
  let agent = null;   // last agent status
  let es = null;

  function show(loggedIn) {
    byId("login").classList.toggle("hidden", loggedIn);
    byId("desktop").classList.toggle("hidden", !loggedIn);
    byId("btn-signout").classList.toggle("hidden", !loggedIn);
  }

  async function start() {
    const res = await call("GET", "/api/session");
    if (res.status === 200 && res.body.role === "agent") {
      enter(res.body.agent, res.body.name);
    } else {
      show(false);
    }
  }

  function enter(id, name) {
    me = id;
    byId("who").textContent = name ? `${name} (${id})` : id;
    show(true);
    if (es) es.close();
    es = stream("/api/stream/agent", render, (err) => { byId("action-error").textContent = err; }, onConn);
  }

  async function onConn(state) {
    byId("conn").dataset.conn = state;
    byId("conn").textContent = state === "live" ? "在线 live" : "重连中 reconnecting";
    if (state === "down") {
      const res = await call("GET", "/api/session");
      if (res.status === 401) { // session expired
        es.close();
        show(false);
      }
    }
  }

  byId("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const res = await call("POST", "/api/login", { agent: f.agent.value.trim(), password: f.password.value });
    f.password.value = "";
    if (res.status !== 200) {
      byId("login-error").textContent = (res.body && res.body.error) || `login failed (${res.status})`;
      return;
    }
    byId("login-error").textContent = "";
    enter(res.body.agent, res.body.name);
  });

  async function setState(state, reason) {
    const body = { state };
    if (reason) body.reason = reason;
    const res = await call("POST", `/api/agents/${encodeURIComponent(me)}/state`, body);
    byId("action-error").textContent = res.status === 200 ? "" : ((res.body && res.body.error) || `failed (${res.status})`);
  }
  byId("btn-ready").addEventListener("click", () => setState("ready"));
  byId("btn-end-wrap").addEventListener("click", () => setState("ready"));
  byId("btn-not-ready").addEventListener("click", () => setState("not_ready", byId("reason-select").value));
  byId("btn-logout").addEventListener("click", () => setState("logged_out"));
  byId("btn-signout").addEventListener("click", () => { if (es) es.close(); signOut("/agent"); });

  function render(snap) {
    agent = snap.agent;
    const st = byId("agent-state");
    st.dataset.state = agent ? agent.state : "";
    st.textContent = agent ? stateLabel(agent.state) : "–";
    byId("agent-reason").textContent = agent && agent.reason ? `(${agent.reason})` : "";
    byId("btn-end-wrap").classList.toggle("hidden", !agent || agent.state !== "wrap_up");
    tick();
    renderPop(snap.pop);
    renderDay(snap.day);
  }

  function renderPop(p) {
    byId("no-call").classList.toggle("hidden", !!p);
    byId("pop").classList.toggle("hidden", !p);
    byId("timeline-card").classList.toggle("hidden", !p);
    if (!p) return;
    byId("pop").dataset.state = p.state;
    byId("pop").dataset.call = p.call_id;
    const ps = byId("pop-state");
    ps.dataset.state = p.state;
    ps.textContent = stateLabel(p.state);
    byId("pop-caller").textContent = p.caller || "未知号码 unknown";
    const stars = Math.max(0, Math.min(5, p.stars || 0));
    byId("pop-stars").textContent = "★".repeat(stars) + "☆".repeat(5 - stars);
    byId("pop-stars").dataset.stars = stars;
    byId("pop-tier").textContent = p.tier || "";
    byId("pop-vip").classList.toggle("hidden", !p.vip);
    byId("pop-repeat").classList.toggle("hidden", !p.repeat);
    byId("pop-brand").textContent = p.brand || "–";
    byId("pop-manager").textContent = p.account_manager || "–";
    byId("pop-queue").textContent = p.queue || "–";
    byId("pop-waited").textContent = duration(p.waited_s);
    byId("pop-last").textContent = p.last_contact || "–";
    byId("pop-path").replaceChildren(...(p.path || []).map((s) => el("li", {},
      s.node,
      s.digits ? [" · 按键 keys ", el("span", { class: "digits" }, s.digits)] : null,
      s.exit ? el("span", { class: "muted" }, ` → ${s.exit}`) : null)));
    const extra = Object.entries(p.extra || {}).sort(([a], [b]) => a.localeCompare(b));
    byId("pop-extra").replaceChildren(...extra.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
    byId("timeline").replaceChildren(...(p.timeline || []).map((t) => el("li", {},
      el("time", { datetime: t.at }, new Date(t.at).toLocaleTimeString()), t.what)));
  }

  function renderDay(d) {
    d = d || {};
    byId("day-answered").textContent = d.answered ?? "–";
    byId("day-asa").textContent = secs(d.asa_s);
    byId("day-aht").textContent = secs(d.aht_s);
    byId("day-missed").textContent = d.missed ?? "–";
    const survey = Object.entries(d.survey || {}).sort(([a], [b]) => a.localeCompare(b));
    byId("day-survey").replaceChildren(...survey.flatMap(([k, v]) => [el("dt", {}, `满意度 ${k}`), el("dd", {}, v.toFixed(2))]));
  }

  function tick() {
    byId("agent-time-in-state").textContent = agent ? duration(since(agent.since)) : "–";
  }
  setInterval(tick, 1000);

  start();
})();
