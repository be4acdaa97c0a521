// villager dashboard: one page, plain JavaScript, uPlot for the plots. Every figure comes from
// api/v1 (docs/dashboard.md); the page keeps no token, only the session's CSRF token. Paths are relative
// to the page: `villager dashboard` serves it at "/", the agent under "/ui/".
"use strict";
(function () {
  const state = { view: "environments", session: null, plots: {}, drawing: {}, canaryId: null, charts: [], building: [], viewWidth: 0 };
  window.villagerState = state;  // read by the browser test: which plots were drawn with what

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
    }
    for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
    return e;
  }
  const when = (ms) => (ms ? new Date(ms).toLocaleString() : "–");
  const dur = (ms) => (ms === null || ms === undefined ? "–" : ms < 1000 ? ms + " ms" : ms < 120000 ? (ms / 1000).toFixed(1) + " s" : (ms / 60000).toFixed(1) + " min");
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  const cls = (s) => ({ succeeded: "good", pass: "good", up: "good", failed: "bad", fail: "bad", rolled_back: "bad", down: "bad", running: "warn", inconclusive: "warn", pending: "muted" }[s] || "");

  async function api(path, opts) {
    const r = await fetch(path, Object.assign({ credentials: "same-origin" }, opts || {}));
    const type = r.headers.get("content-type") || "";
    const body = type.startsWith("application/json") ? await r.json() : await r.text();
    if (!r.ok) throw new Error((body && body.message) || r.status + " " + r.statusText);
    return body;
  }

  function plot(name, host, opts, data) {
    // The view is built off the page: its width is the shown view's, measured when the render began.
    const width = Math.max(320, Math.min(host.clientWidth || state.viewWidth || 900, 1200));
    const axis = { stroke: css("--muted"), grid: { stroke: css("--line") }, ticks: { stroke: css("--line") } };
    opts.width = width;
    opts.scales = opts.scales || {};
    // One canary step is one point: keep a minute around it instead of uPlot's years.
    if (!opts.scales.x) opts.scales.x = { time: true, range: (u, lo, hi) => (hi - lo < 60 ? [lo - 30, hi + 30] : [lo - (hi - lo) * 0.05, hi + (hi - lo) * 0.05]) };
    opts.height = opts.height || 260;
    opts.axes = (opts.axes || [{}, {}]).map((a) => Object.assign({}, axis, a));
    const chart = new uPlot(opts, data, host);
    state.building.push(chart);
    state.drawing[name] = { series: opts.series.slice(1).map((s) => s.label), points: data.slice(1).map((ys) => ys.filter((v) => v !== null && v !== undefined).length) };
    return chart;
  }
  const line = (label, color, extra) => Object.assign({ label, stroke: color, width: 2, points: { show: true, size: 6 } }, extra || {});
  const threshold = (label, color) => ({ label, stroke: color, width: 1, dash: [6, 4], points: { show: false } });

  // ---- views ----------------------------------------------------------------------------------
  async function environments(view) {
    const d = await api("api/v1/environments");
    view.append(el("h2", { text: "Environments" }), el("p", { class: "muted", text: "Open issues: " + (d.open_issues < 0 ? "unreadable" : d.open_issues) }));
    const cards = el("div", { class: "cards" });
    const operator = state.session && state.session.role === "operator";
    for (const env of d.environments) {
      const card = el("div", { class: "card", "data-env": env.name },
        el("h3", {}, env.name + " ", el("span", { class: "muted", text: "(" + env.target + ")" })));
      if (env.error) card.append(el("p", { class: "bad", text: "unavailable: " + env.error }));
      const t = el("table", {}, el("tr", {}, ["service", "serving", "warm", "weights", "probe", "alarms", "last deploy", ""].map((h) => el("th", { text: h }))));
      for (const s of env.services) {
        const weights = Object.entries(s.weights).map(([k, v]) => k + " " + v + "%").join(", ") || "–";
        const last = s.last_deploy;
        t.append(el("tr", { "data-service": s.service },
          el("td", { text: s.service }),
          el("td", { class: "serving" }, s.serving ? el("span", {}, s.serving.version + " ", el("span", { class: s.serving.healthy ? "good" : "bad", text: s.serving.healthy ? "healthy" : "unhealthy" })) : "nothing"),
          el("td", { class: "warm", text: s.warm ? s.warm.version : "–" }),
          el("td", { class: "weights", text: weights }),
          el("td", {}, el("span", { class: "pill " + cls(s.probe.state), text: s.probe.state })),
          el("td", { class: s.alarms_firing.length ? "bad" : "muted", text: s.alarms_firing.length ? s.alarms_firing.map((a) => a.alarm + " (" + a.severity + ")").join(", ") : "none firing" }),
          el("td", {}, last ? el("span", {}, last.kind + " " + last.version + " ", el("span", { class: cls(last.status), text: last.status }), el("br"), el("span", { class: "muted", text: when(last.started_at_ms) })) : "–"),
          el("td", {}, el("button", { class: "danger rollback", "data-env": env.name, "data-service": s.service, disabled: !operator || env.target === "url" || !s.serving || !!s.canary,
            title: !operator ? "needs an operator token" : s.canary ? "a deploy is running: abort its canary instead" : "route " + env.name + "/" + s.service + " back to its previous known-good release",
            onclick: () => rollback(env.name, s.service) }, "Roll back"),
            ...(s.held ? [
              el("button", { class: "promote", "data-env": env.name, "data-service": s.service, disabled: !operator,
                title: operator ? "held at " + s.held.weight + "%: move " + s.held.version + " to 100%" : "needs an operator token",
                onclick: () => heldAction("promote", env.name, s.service, s.held) }, "Promote"),
              el("button", { class: "danger abort", "data-env": env.name, "data-service": s.service, disabled: !operator,
                title: operator ? "held at " + s.held.weight + "%: route everything back to the serving release" : "needs an operator token",
                onclick: () => heldAction("abort", env.name, s.service, s.held) }, "Abort canary")] : []),
            ...(s.canary ? [
              el("button", { class: "danger abort", "data-env": env.name, "data-service": s.service, disabled: !operator,
                title: operator ? "canary at " + s.canary.weight + "%: stop it and route everything back to the serving release" : "needs an operator token",
                onclick: () => heldAction("abort", env.name, s.service, s.canary) }, "Abort canary")] : []))));
        if (s.canary)
          t.append(el("tr", { class: "canary" }, el("td", { colspan: 8, class: "warn",
            text: "CANARY: " + s.canary.version + " at " + s.canary.weight + "% since " + when(Date.parse(s.canary.since)) + " (deploy #" + s.canary.deployment_id + " running)" })));
        if (s.held)
          t.append(el("tr", { class: "held" }, el("td", { colspan: 8, class: "warn",
            text: "HELD: " + s.held.version + " at " + s.held.weight + "% since " + when(Date.parse(s.held.since)) + " (" + s.held.reason + ")" })));
      }
      card.append(t);
      cards.append(card);
    }
    view.append(cards);
  }

  // Ends a held canary (promote: the candidate to 100%; abort: back to the serving release), or aborts
  // a running one (its deploy rolls back; `canary` is the status's held or canary entry).
  async function heldAction(action, env, service, held) {
    const dlg = document.getElementById("confirm");
    document.getElementById("confirm-text").textContent = action === "promote"
      ? "Promote " + held.version + " of " + env + "/" + service + " from " + held.weight + "% to 100%?"
      : "Abort the canary of " + held.version + " in " + env + "/" + service + " and route everything back?";
    dlg.returnValue = "";
    dlg.showModal();
    await new Promise((res) => dlg.addEventListener("close", res, { once: true }));
    if (dlg.returnValue !== "ok") return;
    const note = el("p", { class: "warn", id: "action-result", text: action + " " + env + "/" + service + " ..." });
    document.getElementById("notes").replaceChildren(note);  // outside #view: a live redraw keeps it
    try {
      const r = await api("api/v1/actions/" + action, { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": state.session.csrf },
        body: JSON.stringify({ environment: env, service }) });
      note.className = "good";
      note.textContent = r.message;
    } catch (e) {
      note.className = "bad";
      note.textContent = action + " failed: " + e.message;
    }
    note.setAttribute("data-done", "1");
  }

  async function rollback(env, service) {
    const dlg = document.getElementById("confirm");
    document.getElementById("confirm-text").textContent = "Roll back " + env + "/" + service + " to its previous known-good release?";
    dlg.returnValue = "";
    dlg.showModal();
    await new Promise((res) => dlg.addEventListener("close", res, { once: true }));
    if (dlg.returnValue !== "ok") return;
    const note = el("p", { class: "warn", id: "action-result", text: "rolling back " + env + "/" + service + " ..." });
    document.getElementById("notes").replaceChildren(note);  // outside #view: a live redraw keeps it
    try {
      const r = await api("api/v1/actions/rollback", { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": state.session.csrf },
        body: JSON.stringify({ environment: env, service, reason: "rolled back from the dashboard" }) });
      note.className = "good";
      note.textContent = r.message + " (" + dur(r.duration_ms) + ")";
    } catch (e) {
      note.className = "bad";
      note.textContent = "rollback failed: " + e.message;
    }
    note.setAttribute("data-done", "1");
  }

  async function timeline(view) {
    const d = await api("api/v1/deployments?limit=30");
    view.append(el("h2", { text: "Release timeline" }));
    if (!d.deployments.length) return view.append(el("p", { class: "muted", text: "no deployments yet" }));
    const t = el("table", {}, el("tr", {}, ["#", "when", "env/service", "kind", "version", "status", "steps (time axis)", "took"].map((h) => el("th", { text: h }))));
    for (const dep of d.deployments) {
      const start = dep.started_at_ms, end = dep.finished_at_ms || Date.now(), span = Math.max(end - start, 1);
      const bar = el("div", { class: "timeline" });
      for (const s of dep.steps) {
        const a = s.started_at_ms, b = s.finished_at_ms || end;
        bar.append(el("span", { class: s.status, style: "left:" + ((a - start) / span * 100).toFixed(2) + "%;width:" + Math.max((b - a) / span * 100, 0.6).toFixed(2) + "%",
          title: s.name + ": " + s.status + ", " + dur(s.duration_ms) + (s.detail && s.detail.verdict ? ", canary " + s.detail.verdict : "") }));
      }
      const gate = (dep.detail && dep.detail.gate) || {};
      const approvals = (gate.approvals_used || []).filter((a) => a.service === dep.service);
      t.append(el("tr", {},
        el("td", {}, el("a", { href: "#canary/" + dep.id, text: dep.id })),
        el("td", { text: when(start) }), el("td", { text: dep.environment + "/" + dep.service }), el("td", { text: dep.kind }),
        el("td", { text: dep.version }), el("td", { class: cls(dep.status), text: dep.status }),
        el("td", {}, bar, el("div", { class: "muted mono", text: dep.steps.map((s) => s.name + (s.status === "succeeded" ? "" : " (" + s.status + ")")).join(" → ") }),
          approvals.length ? el("div", { class: "muted", text: "approved by " + approvals.map((a) => a.signer + " (" + a.role + ")").join(", ") + (dep.detail.approval_to_deployed_ms ? "; approval to deployed " + dur(dep.detail.approval_to_deployed_ms) : "") }) : null),
        el("td", { text: dur(dep.duration_ms) })));
    }
    view.append(el("p", { class: "muted", text: "actor per row in the audit log; click an id for its canary analysis" }), t);
  }

  async function canary(view) {
    const list = await api("api/v1/deployments?limit=50");
    const judged = list.deployments.filter((d) => d.steps.some((s) => s.kind === "shift" && s.detail && s.detail.metrics));
    view.append(el("h2", { text: "Canary analysis" }));
    if (!judged.length) return view.append(el("p", { class: "muted", text: "no canary step has been judged yet" }));
    const id = state.canaryId && judged.some((d) => d.id === state.canaryId) ? state.canaryId : judged[0].id;
    const pick = el("select", { id: "canary-pick", onchange: (e) => { state.canaryId = Number(e.target.value); render(); } },
      judged.map((d) => el("option", { value: d.id, selected: d.id === id, text: "#" + d.id + " " + d.environment + "/" + d.service + " " + d.version + " (" + d.status + ")" })));
    view.append(el("p", {}, "Deployment ", pick));
    const d = await api("api/v1/deployments/" + id);
    const steps = d.canary.filter((c) => c.analysis.sides);
    const xs = steps.map((c) => (c.finished_at_ms || c.started_at_ms) / 1000);
    const side = (k, f) => steps.map((c) => f(c.analysis.sides[k]));
    const limit = (m) => steps.map((c) => { const x = c.analysis.metrics.find((y) => y.metric === m); return x ? x.limit : null; });
    const B = css("--base"), C = css("--cand");
    if (steps.length) {
      const lat = el("div", { class: "plot", id: "plot-latency" });
      view.append(el("h3", { text: "Latency per canary step (ms): baseline " + "vs candidate, with limits" }), lat);
      const ms = (v) => v * 1000;
      plot("latency", lat, { series: [{}, line("baseline p50", B), line("baseline p90", B, { dash: [2, 2] }), line("baseline p99", B, { width: 1 }),
        line("candidate p50", C), line("candidate p90", C, { dash: [2, 2] }), line("candidate p99", C, { width: 1 }),
        threshold("p50 limit", css("--warn")), threshold("p99 limit", css("--bad"))], axes: [{}, { label: "latency (ms)" }] },
        [xs, side("baseline", (s) => ms(s.p50)), side("baseline", (s) => ms(s.p90)), side("baseline", (s) => ms(s.p99)),
          side("candidate", (s) => ms(s.p50)), side("candidate", (s) => ms(s.p90)), side("candidate", (s) => ms(s.p99)),
          limit("p50").map((v) => v === null ? null : v * 1000), limit("p99").map((v) => v === null ? null : v * 1000)]);
      const rate = el("div", { class: "plot", id: "plot-rate" });
      view.append(el("h3", { text: "Request rate (req/s) and 5xx rate (%)" }), rate);
      plot("rate", rate, { series: [{}, line("baseline req/s", B, { scale: "rps" }), line("candidate req/s", C, { scale: "rps" }),
        line("baseline 5xx %", B, { scale: "pct", dash: [2, 2] }), line("candidate 5xx %", C, { scale: "pct", dash: [2, 2] }), threshold("5xx limit %", css("--bad"))],
        scales: { pct: { range: (u, lo, hi) => [0, Math.max(hi, 1)] } }, axes: [{}, { scale: "rps", label: "requests/s" }, { scale: "pct", side: 1, label: "5xx (%)", grid: { show: false } }] },
        [xs, side("baseline", (s) => s.rate_per_s), side("candidate", (s) => s.rate_per_s), side("baseline", (s) => s.error_rate * 100), side("candidate", (s) => s.error_rate * 100),
          steps.map((c) => { const m = c.analysis.metrics.find((y) => y.metric === "error_rate"); return m ? m.limit * 100 : null; })]);
      const last = steps[steps.length - 1].analysis.sides;
      const dist = el("div", { class: "plot", id: "plot-distribution" });
      view.append(el("h3", { text: "Latency distribution at the last step: quantile (%) vs latency (ms)" }), dist);
      plot("distribution", dist, { scales: { x: { time: false } }, series: [{ label: "quantile %" }, line("baseline", B), line("candidate", C)],
        axes: [{ label: "quantile (%)" }, { label: "latency (ms)" }] },
        [last.baseline.quantiles.map((q) => q[0] * 100), last.baseline.quantiles.map((q) => q[1] * 1000), last.candidate.quantiles.map((q) => q[1] * 1000)]);
    }
    view.append(el("h3", { text: "Verdicts per step and metric" }));
    const t = el("table", { id: "verdicts" }, el("tr", {}, ["weight", "metric", "n baseline", "n candidate", "baseline", "candidate", "limit", "statistic z", "p", "rule", "verdict"].map((h) => el("th", { text: h }))));
    for (const c of d.canary)
      for (const m of c.analysis.metrics)
        t.append(el("tr", { "data-weight": c.weight, "data-metric": m.metric },
          el("td", { text: c.weight + "%" }), el("td", { text: m.metric }), el("td", { class: "n-baseline", text: c.analysis.baseline_requests }),
          el("td", { class: "n-candidate", text: c.analysis.candidate_requests }), el("td", { text: m.baseline.toPrecision(4) }), el("td", { text: m.candidate.toPrecision(4) }),
          el("td", { text: m.limit.toPrecision(4) }), el("td", { class: "z", text: m.z === undefined ? "–" : m.z.toFixed(3) }),
          el("td", { class: "p", text: m.p === undefined ? "–" : m.p.toPrecision(3) }), el("td", { class: "rule", text: m.rule }),
          el("td", { class: "verdict " + cls(m.verdict), text: m.verdict })));
    view.append(t, el("p", { class: "muted", text: "latencies in seconds in the table; the U test runs only with min_samples on both sides (alpha " + (d.canary[0] ? d.canary[0].analysis.alpha : "") + ")" }));
  }

  async function rollbacks(view) {
    const d = await api("api/v1/rollbacks?since=90d");
    view.append(el("h2", { text: "Rollbacks: detection to restored, against the 5-minute target" }));
    if (!d.rollbacks.length) return view.append(el("p", { class: "muted", text: "no rollback in the window" }));
    const host = el("div", { class: "plot", id: "plot-rollbacks" });
    view.append(host);
    plot("rollbacks", host, { series: [{}, line("detection → restored (s)", css("--accent")), threshold("target 5 min", css("--bad"))],
      scales: { y: { range: (u, lo, hi) => [0, Math.max(hi, 330)] } }, axes: [{}, { label: "seconds" }] },
      [d.rollbacks.map((r) => r.detected_at_ms / 1000), d.rollbacks.map((r) => r.duration_ms / 1000), d.rollbacks.map(() => d.target_ms / 1000)]);
    const t = el("table", {}, el("tr", {}, ["deployment", "env/service", "kind", "detected", "took", "target met"].map((h) => el("th", { text: h }))));
    for (const r of d.rollbacks)
      t.append(el("tr", {}, el("td", { text: r.deployment_id }), el("td", { text: r.environment + "/" + r.service }), el("td", { text: r.kind }),
        el("td", { text: when(r.detected_at_ms) }), el("td", { text: dur(r.duration_ms) }), el("td", { class: r.met ? "good" : "bad", text: r.met ? "yes" : "no" })));
    view.append(t);
  }

  async function uptime(view) {
    const d = await api("api/v1/uptime?since=1h");
    view.append(el("h2", { text: "Uptime strip: public probes per " + dur(d.bucket_ms) + ", last hour" }),
      el("p", { class: "muted", text: "green all up, amber some down, red all down, grey no counted probe (pending or none); outlined: a deploy started" }));
    for (const s of d.services) {
      const strip = el("div", { class: "strip" });
      for (const b of s.buckets) {
        const deployed = s.deploys.some((x) => x.at_ms >= b.start_ms && x.at_ms < b.start_ms + d.bucket_ms);
        const k = !b.samples ? "" : b.ok === b.samples ? "up" : b.ok === 0 ? "down" : "partial";
        strip.append(el("span", { class: k + (deployed ? " deploy" : ""), title: when(b.start_ms) + ": " + b.ok + "/" + b.samples + " up" + (b.pending ? ", " + b.pending + " pending" : "") }));
      }
      view.append(el("h3", {}, s.environment + "/" + s.service + " ", el("span", { class: "muted", text: s.uptime === null ? "no counted probes" : (s.uptime * 100).toFixed(3) + "% up (" + s.ok + " of " + s.samples + ")" })), strip);
    }
  }

  function markdown(text) {
    const out = el("div", { class: "review" });
    let list = null;
    for (const raw of text.split("\n")) {
      const inline = (s) => { const span = el("span"); s.split(/(\*\*[^*]+\*\*|`[^`]+`)/).forEach((p) => span.append(p.startsWith("**") ? el("strong", { text: p.slice(2, -2) }) : p.startsWith("`") ? el("code", { text: p.slice(1, -1) }) : p)); return span; };
      const h = raw.match(/^(#{1,4}) (.*)/);
      if (h) { list = null; out.append(el("h" + Math.min(h[1].length + 1, 5), {}, inline(h[2]))); continue; }
      const li = raw.match(/^\s*[-*] (.*)/);
      if (li) { if (!list) { list = el("ul"); out.append(list); } list.append(el("li", {}, inline(li[1]))); continue; }
      list = null;
      if (raw.startsWith("|")) out.append(el("div", { class: "mono", text: raw }));
      else if (raw.trim()) out.append(el("p", {}, inline(raw)));
    }
    return out;
  }

  async function report(view) {
    const d = await api("api/v1/report");
    view.append(el("h2", { text: "Report" + (d.environment ? " for " + d.environment : "") }));
    const table = (figs, withTarget) => el("table", {}, el("tr", {}, ["figure", "value", withTarget ? "target" : null, withTarget ? "met" : null, "samples", "how"].filter(Boolean).map((h) => el("th", { text: h }))),
      figs.map((f) => el("tr", { "data-key": f.key }, el("td", { text: f.name }), el("td", { text: f.display }), withTarget ? el("td", { text: f.target }) : null,
        withTarget ? el("td", { class: f.met === true ? "good" : f.met === false ? "bad" : "muted", text: f.met === null ? "–" : f.met ? "yes" : "no" }) : null,
        el("td", { text: f.samples }), el("td", { class: "muted", text: f.note }))));
    view.append(el("h3", { text: "Release role targets" }), table(d.targets, true), el("h3", { text: "DORA metrics" }), table(d.dora, false));
    view.append(el("h3", { text: "Review documents" }));
    if (!d.reviews.length) return view.append(el("p", { class: "muted", text: "none yet" }));
    const body = el("div");
    const pick = el("select", { onchange: async (e) => { body.replaceChildren(markdown(await api("api/v1/review?path=" + encodeURIComponent(e.target.value)))); } },
      d.reviews.map((r) => el("option", { value: r.path, text: r.path })));
    view.append(pick, body);
    body.append(markdown(await api("api/v1/review?path=" + encodeURIComponent(d.reviews[0].path))));
  }

  async function audit(view) {
    const d = await api("api/v1/audit?limit=300");
    const v = d.verification;
    view.append(el("h2", { text: "Audit log" }),
      el("p", { id: "audit-verify", class: v.ok ? "good" : "bad", text: v.ok ? "chain verified: " + v.events + " events, head " + (v.head_hash || "–").slice(0, 16) : "CHAIN BROKEN: " + v.message }));
    const t = el("table", { id: "audit" }, el("tr", {}, ["seq", "when", "actor", "kind", "subject", "data"].map((h) => el("th", { text: h }))));
    for (const e of d.events)
      t.append(el("tr", { "data-kind": e.kind }, el("td", { text: e.seq }), el("td", { text: when(e.ts_ms) }), el("td", { class: "actor", text: e.actor }),
        el("td", { text: e.kind }), el("td", { text: e.subject }), el("td", { class: "mono muted", text: JSON.stringify(e.data).slice(0, 160) })));
    view.append(t);
  }

  const views = { environments, timeline, canary, rollbacks, uptime, report, audit };

  // ---- shell ----------------------------------------------------------------------------------
  // One render at a time. A render asked for while one runs (a tab click during a live redraw) runs
  // right after it, so the view asked for last is the one shown. A view is built off the page and swapped
  // in whole when complete, so what is shown (and what a reader of the page sees) is always a finished
  // render, marked data-ready; state.plots describes it (plots being drawn sit in state.drawing).
  let rendering = null;
  let again = false;
  async function renderOnce() {
    const view = el("section", { "data-view": state.view });
    state.viewWidth = document.getElementById("view").clientWidth;
    state.building = [];
    state.drawing = {};
    document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.view === state.view));
    try {
      await views[state.view](view);
    } catch (e) {
      view.append(el("p", { class: "bad", text: "could not load: " + e.message }));
    }
    if (again) {  // superseded before it was shown
      state.building.forEach((c) => c.destroy());
      return;
    }
    state.charts.forEach((c) => c.destroy());
    state.charts = state.building;
    view.id = "view";
    document.getElementById("view").replaceWith(view);
    state.plots = state.drawing;
    view.setAttribute("data-ready", "1");
  }
  async function render() {
    if (rendering) {
      again = true;
      return rendering;
    }
    rendering = (async () => {
      do {
        again = false;
        await renderOnce();
      } while (again);
    })();
    try { await rendering; } finally { rendering = null; }
  }

  function route() {
    const [v, arg] = location.hash.replace(/^#/, "").split("/");
    state.view = views[v] ? v : "environments";
    if (v === "canary" && arg) state.canaryId = Number(arg);
    render();
  }

  let events = null;
  function live() {
    if (events) return;
    events = new EventSource("api/v1/events");
    const dot = document.getElementById("live");
    events.addEventListener("hello", () => dot.classList.add("on"));
    let timer = null;
    events.addEventListener("change", () => { clearTimeout(timer); timer = setTimeout(render, 300); });
    events.onerror = () => dot.classList.remove("on");
  }

  async function signedIn(s) {
    state.session = s;
    document.getElementById("login").hidden = true;
    document.getElementById("signout").hidden = false;
    document.getElementById("who").textContent = s.name + " (" + s.role + ")";
    live();
    route();
  }

  async function start() {
    const saved = localStorage.getItem("villager-theme");
    const dark = saved ? saved === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
    document.documentElement.dataset.theme = dark ? "dark" : "light";
    document.getElementById("theme").onclick = () => {
      const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
      document.documentElement.dataset.theme = next;
      localStorage.setItem("villager-theme", next);
      render();
    };
    document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => { location.hash = b.dataset.view; }));
    window.addEventListener("hashchange", route);
    document.getElementById("signout").onclick = async () => { await api("api/v1/session", { method: "DELETE" }); location.reload(); };
    document.getElementById("login-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const input = document.getElementById("token");
      try {
        const s = await api("api/v1/session", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token: input.value.trim() }) });
        input.value = "";
        signedIn(s);
      } catch (err) {
        document.getElementById("login-error").textContent = err.message;
      }
    });
    const s = await api("api/v1/session");
    if (s.signed_in) return signedIn(s);
    document.getElementById("login").hidden = false;
    document.getElementById("view").replaceChildren();
  }
  start();
})();
