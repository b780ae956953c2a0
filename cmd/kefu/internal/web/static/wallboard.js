// Kefu supervisor wallboard: queue and tier figures, agents, the waiting
// calls with the supervisor operations, and the service level chart, live
// over /api/stream/wallboard.
"use strict";

(() => {
  const { byId, el, call, duration, percent, secs, stateLabel, since, stream, signOut } = kefu;
  const stateOrder = ["ready", "offered", "talking", "wrap_up", "not_ready", "logged_out"];
  let snap = null;
  let windowName = null;

  byId("btn-signout").addEventListener("click", () => signOut("/login"));
  byId("window-select").addEventListener("change", (ev) => { windowName = ev.target.value; if (snap) render(snap); });

  const es = stream("/api/stream/wallboard", (s) => { snap = s; byId("problem").textContent = ""; render(s); },
    (err) => { byId("problem").textContent = err; },
    async (state) => {
      byId("conn").dataset.conn = state;
      byId("conn").textContent = state === "live" ? "实时 live" : "重连中 reconnecting";
      if (state === "down") {
        const res = await call("GET", "/api/session");
        if (res.status === 401 || (res.body && res.body.role !== "supervisor")) { es.close(); location.href = "/login"; }
      }
    });

  function currentWindow(f) {
    const ws = f.windows || [];
    const sel = byId("window-select");
    const names = ws.map((w) => w.window);
    if (sel.options.length !== names.length || names.some((n, i) => sel.options[i].value !== n)) {
      sel.replaceChildren(...names.map((n) => el("option", { value: n }, n)));
    }
    if (!windowName || !names.includes(windowName)) windowName = names.includes("1h") ? "1h" : names[names.length - 1];
    sel.value = windowName || "";
    return ws.find((w) => w.window === windowName) || { queues: [], tiers: [] };
  }

  function render(s) {
    const f = s.figures || {};
    const live = f.live || { queues: [], tiers: [] };
    const win = currentWindow(f);
    renderQueues(live.queues || [], win.queues || []);
    renderTiers(live.tiers || [], win.tiers || []);
    renderAgents(s.agents || []);
    renderCalls(s.calls || []);
    renderChart(s.chart || { hours: [], series: {} });
    fillChoices(live.queues || [], s.agents || [], live.tiers || [], win.tiers || []);
    tick();
  }

  function renderQueues(live, win) {
    const byName = Object.fromEntries(win.map((q) => [q.queue, q]));
    byId("queues").tBodies[0].replaceChildren(...live.map((q) => {
      const w = byName[q.name] || {};
      const agents = stateOrder.filter((st) => q.agents && q.agents[st]).map((st) =>
        el("span", { class: "state", "data-state": st, title: st }, `${stateLabel(st)} ${q.agents[st]}`));
      return el("tr", { "data-testid": `queue-${q.name}` },
        el("td", {}, q.name),
        el("td", { class: "num", "data-testid": `queue-waiting-${q.name}` }, q.waiting),
        el("td", { class: "num", "data-testid": `queue-longest-${q.name}` }, duration(q.longest_wait_s)),
        el("td", { class: "num", "data-testid": `queue-sl-${q.name}` }, percent(w.service_level)),
        el("td", { class: "num", "data-testid": `queue-asa-${q.name}` }, secs(w.asa_s)),
        el("td", { class: "num", "data-testid": `queue-abandon-${q.name}` }, percent(w.abandon_rate)),
        el("td", { "data-testid": `queue-agents-${q.name}` }, el("span", { class: "row" }, agents)));
    }));
  }

  function renderTiers(live, win) {
    const names = [...new Set([...win.map((t) => t.tier), ...live.map((t) => t.tier)])].sort();
    const w = Object.fromEntries(win.map((t) => [t.tier, t]));
    const l = Object.fromEntries(live.map((t) => [t.tier, t]));
    byId("tiers").tBodies[0].replaceChildren(...names.map((n) => el("tr", { "data-testid": `tier-${n}` },
      el("td", {}, n),
      el("td", { class: "num", "data-testid": `tier-sl-${n}` }, percent((w[n] || {}).service_level)),
      el("td", { class: "num", "data-testid": `tier-asa-${n}` }, secs((w[n] || {}).asa_s)),
      el("td", { class: "num", "data-testid": `tier-waiting-${n}` }, (l[n] || {}).waiting || 0),
      el("td", { class: "num" }, l[n] ? duration(l[n].longest_wait_s) : "–"))));
  }

  function renderAgents(agents) {
    byId("agents").tBodies[0].replaceChildren(...agents.map((a) => el("tr", { "data-testid": `agent-${a.id}` },
      el("td", {}, a.id),
      el("td", {}, a.name || ""),
      el("td", {}, el("span", { class: "state", "data-state": a.state, "data-testid": `agent-state-${a.id}` }, stateLabel(a.state))),
      el("td", { class: "muted" }, a.reason || ""),
      el("td", { class: "num", "data-testid": `agent-time-${a.id}`, "data-since": a.since }, ""),
      el("td", {}, a.call_id ? `${a.queue || ""} ${a.call_id}` : ""),
      el("td", {}, el("span", { class: "row" },
        el("button", { type: "button", class: "small", "data-testid": `force-ready-${a.id}`, onclick: () => force(a.id, "ready") }, "就绪 Ready"),
        el("button", { type: "button", class: "small", "data-testid": `force-not-ready-${a.id}`, onclick: () => force(a.id, "not_ready", "supervisor") }, "未就绪 Not ready"),
        el("button", { type: "button", class: "small", "data-testid": `force-logout-${a.id}`, onclick: () => force(a.id, "logged_out") }, "签出 Log out"))))));
  }

  function renderCalls(calls) {
    const waiting = calls.filter((c) => c.state !== "talking");
    byId("calls").tBodies[0].replaceChildren(...waiting.map((c, i) => el("tr", { "data-testid": `call-${c.call_id}` },
      el("td", { class: "num" }, i + 1),
      el("td", {}, c.caller || c.callback || "–"),
      el("td", {}, c.queue),
      el("td", {}, c.tier),
      el("td", {}, el("span", { class: "state", "data-state": c.state }, stateLabel(c.state))),
      el("td", { class: "num" }, duration(c.wait_s)),
      el("td", {}, c.agent_id || (c.preferred_agent ? `→ ${c.preferred_agent}` : "")),
      el("td", {}, el("span", { class: "row" },
        el("button", { type: "button", class: "small", "data-testid": `priority-${c.call_id}`, onclick: () => askPriority(c) }, "优先 Priority"),
        el("button", { type: "button", class: "small", "data-testid": `move-${c.call_id}`, onclick: () => askMove(c) }, "转移 Move"))))));
  }

  function fillChoices(queues, agents, liveTiers, winTiers) {
    const tiers = [...new Set([...liveTiers.map((t) => t.tier), ...winTiers.map((t) => t.tier)])].sort();
    document.getElementById("tier-list").replaceChildren(...tiers.map((t) => el("option", { value: t })));
    const mq = byId("move-queue"), ma = byId("move-agent");
    if (!byId("dlg-move").open) {
      mq.replaceChildren(el("option", { value: "" }, "–"), ...queues.map((q) => el("option", { value: q.name }, q.name)));
      ma.replaceChildren(el("option", { value: "" }, "–"), ...agents.map((a) => el("option", { value: a.id }, `${a.id} ${a.name || ""}`)));
    }
  }

  async function act(path, body) {
    const res = await call("POST", path, body);
    byId("action-error").textContent = res.status === 200 ? "" : ((res.body && res.body.error) || `failed (${res.status})`);
  }
  const force = (id, state, reason) => act(`/api/agents/${encodeURIComponent(id)}/force`, reason ? { state, reason } : { state });

  function askPriority(c) {
    const dlg = byId("dlg-priority");
    byId("priority-call").textContent = `${c.caller || ""} (${c.call_id})`;
    byId("priority-tier").value = c.tier || "";
    dlg.onclose = () => {
      if (dlg.returnValue !== "ok") return;
      act(`/api/calls/${encodeURIComponent(c.call_id)}/priority`,
        { tier: byId("priority-tier").value.trim(), priority_s: Number(byId("priority-seconds").value) || 0 });
    };
    dlg.showModal();
  }

  function askMove(c) {
    const dlg = byId("dlg-move");
    byId("move-call").textContent = `${c.caller || ""} (${c.call_id})`;
    const form = byId("move-form");
    form.queue.value = "";
    form.agent.value = "";
    dlg.onclose = () => {
      if (dlg.returnValue !== "ok") return;
      const body = form.agent.value ? { agent: form.agent.value, wait_s: Number(form.wait_s.value) || 0 } : { queue: form.queue.value };
      act(`/api/calls/${encodeURIComponent(c.call_id)}/move`, body);
    };
    dlg.showModal();
  }

  // renderChart draws the service level per tier per hour as SVG lines;
  // an hour without calls breaks the line.
  const palette = ["#c62828", "#0b6bcb", "#1b8a3e", "#b96b00", "#6a3fc1", "#00838f", "#5d4037"];
  function renderChart(chart) {
    const svg = byId("chart");
    const NS = "http://www.w3.org/2000/svg";
    const mk = (tag, attrs, text) => {
      const n = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
      if (text !== undefined) n.textContent = text;
      return n;
    };
    const W = 720, H = 260, L = 44, R = 110, T = 12, B = 30;
    const hours = chart.hours || [];
    const x = (i) => L + (hours.length > 1 ? i * (W - L - R) / (hours.length - 1) : (W - L - R) / 2);
    const y = (v) => T + (1 - v) * (H - T - B);
    const nodes = [];
    for (const v of [0, 0.25, 0.5, 0.75, 1]) {
      nodes.push(mk("line", { class: "grid", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      nodes.push(mk("text", { class: "axis", x: L - 6, y: y(v) + 4, "text-anchor": "end" }, `${v * 100}%`));
    }
    const step = Math.max(1, Math.ceil(hours.length / 12));
    hours.forEach((h, i) => {
      if (i % step === 0) nodes.push(mk("text", { class: "axis", x: x(i), y: H - 10, "text-anchor": "middle" }, h));
    });
    const tiers = Object.keys(chart.series || {}).sort();
    tiers.forEach((tier, ti) => {
      const color = palette[ti % palette.length];
      const g = mk("g", { "data-testid": `chart-${tier}` });
      let seg = [];
      const flush = () => {
        if (seg.length > 1) g.append(mk("polyline", { class: "series", stroke: color, points: seg.join(" ") }));
        seg = [];
      };
      (chart.series[tier] || []).forEach((v, i) => {
        if (v === null || v === undefined) { flush(); return; }
        seg.push(`${x(i).toFixed(1)},${y(Math.min(1, v)).toFixed(1)}`);
        g.append(mk("circle", { cx: x(i).toFixed(1), cy: y(Math.min(1, v)).toFixed(1), r: 3, fill: color }));
      });
      flush();
      nodes.push(g);
      const ly = T + 14 + ti * 18;
      nodes.push(mk("rect", { x: W - R + 12, y: ly - 9, width: 12, height: 4, fill: color }));
      nodes.push(mk("text", { class: "axis", x: W - R + 30, y: ly - 3 }, tier));
    });
    if (tiers.length === 0) nodes.push(mk("text", { class: "axis", x: W / 2, y: H / 2, "text-anchor": "middle" }, "今日暂无数据 no calls today yet"));
    svg.replaceChildren(...nodes);
  }

  function tick() {
    document.querySelectorAll("[data-since]").forEach((n) => { n.textContent = duration(since(n.dataset.since)); });
  }
  setInterval(tick, 1000);
})();
