// Drives the dashboard in headless Chromium over the DevTools protocol (chrome-remote-interface from
// tools/npm). usage: node dashboard_browser.js PORT URL TOKEN OUT_DIR STEP
// STEP: "read" (sign in, visit every view, report what each shows, screenshots), "rollback ENV" or
// "abort ENV" (sign in, click ENV/user's Roll back or Abort canary button, confirm, report the result).
// Prints one JSON object on stdout; console errors and exceptions are part of it.
"use strict";
const CDP = require(process.env.CRI_MODULE || "chrome-remote-interface");
const fs = require("fs");
const [port, url, token, outDir, step, env] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

(async () => {
  const client = await CDP({ port: Number(port) });
  const { Page, Runtime, Log, Emulation } = client;
  const errors = [];
  Runtime.consoleAPICalled((e) => { if (e.type === "error" || e.type === "assert") errors.push("console." + e.type + ": " + e.args.map((a) => a.value || a.description).join(" ")); });
  Runtime.exceptionThrown((e) => errors.push("exception: " + (e.exceptionDetails.exception ? e.exceptionDetails.exception.description : e.exceptionDetails.text)));
  Log.entryAdded((e) => { if (e.entry.level === "error") errors.push("log: " + e.entry.text + " " + (e.entry.url || "")); });
  await Promise.all([Page.enable(), Runtime.enable(), Log.enable()]);
  await Emulation.setDeviceMetricsOverride({ width: 1366, height: 900, deviceScaleFactor: 1, mobile: false });
  const js = async (expr) => {
    const r = await Runtime.evaluate({ expression: expr, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) throw new Error("evaluate " + expr.slice(0, 80) + ": " + JSON.stringify(r.exceptionDetails));
    return r.result.value;
  };
  const until = async (expr, what, ms = 15000) => {
    for (let t = 0; t < ms; t += 100) { if (await js(expr)) return; await sleep(100); }
    throw new Error("timed out waiting for " + what);
  };
  const shot = async (name) => {
    const { data } = await Page.captureScreenshot({ format: "png", captureBeyondViewport: true });
    fs.writeFileSync(outDir + "/" + name + ".png", Buffer.from(data, "base64"));
  };
  const visit = async (hash) => {
    await js(`document.getElementById("view").removeAttribute("data-ready"); location.hash = ${JSON.stringify(hash)}; true`);
    await until(`document.querySelector('#view[data-ready]') !== null`, "view " + hash);
    await sleep(300);
  };
  await client.Network.clearBrowserCookies();  // each run signs in with its own token
  await Page.navigate({ url });
  await Page.loadEventFired();
  await until(`!document.getElementById("login").hidden`, "the sign-in form");
  await js(`document.getElementById("token").value = ${JSON.stringify(token)}; document.getElementById("login-form").requestSubmit(); true`);
  await until(`document.querySelector('#view[data-ready]') !== null`, "the first view");
  const out = { errors };
  out.token_in_page = await js(`document.documentElement.outerHTML.includes(${JSON.stringify(token)}) || JSON.stringify(localStorage).includes(${JSON.stringify(token)})`);
  if (step === "read") {
    out.environments = await js(`[...document.querySelectorAll(".card[data-env]")].map(c => ({env: c.dataset.env,
      services: [...c.querySelectorAll("tr[data-service]")].map(r => ({service: r.dataset.service, serving: r.querySelector(".serving").textContent, weights: r.querySelector(".weights").textContent})),
      rollback_disabled: [...c.querySelectorAll("button.rollback")].every(b => b.disabled)}))`);
    await shot("environments");
    await visit("timeline"); await shot("timeline");
    await visit("canary/" + env);
    out.canary_plots = await js(`JSON.parse(JSON.stringify(window.villagerState.plots))`);
    out.canvases = await js(`document.querySelectorAll("#view canvas").length`);
    out.verdicts = await js(`[...document.querySelectorAll("#verdicts tr[data-metric]")].map(r => ({weight: Number(r.dataset.weight), metric: r.dataset.metric,
      n_baseline: Number(r.querySelector(".n-baseline").textContent), n_candidate: Number(r.querySelector(".n-candidate").textContent),
      z: r.querySelector(".z").textContent, p: r.querySelector(".p").textContent, rule: r.querySelector(".rule").textContent, verdict: r.querySelector(".verdict").textContent}))`);
    await shot("canary");
    await visit("rollbacks");
    out.rollback_plot = await js(`JSON.parse(JSON.stringify(window.villagerState.plots.rollbacks || null))`);
    await shot("rollbacks");
    await visit("uptime"); out.strips = await js(`document.querySelectorAll(".strip").length`); await shot("uptime");
    await visit("report"); out.report_rows = await js(`document.querySelectorAll("tr[data-key]").length`); await shot("report");
    await visit("audit"); out.audit_verified = await js(`document.getElementById("audit-verify").className`); await shot("audit");
  } else {
    await visit("environments");
    const button = `document.querySelector('button.${step}[data-env="${env}"][data-service="user"]')`;
    out.button_disabled = await js(`${button} === null || ${button}.disabled`);
    if (!out.button_disabled) {
      await js(`${button}.click(); true`);
      await until(`document.getElementById("confirm").open`, "the confirmation dialog");
      out.confirm_text = await js(`document.getElementById("confirm-text").textContent`);
      await shot(step + "-confirm");
      await js(`document.getElementById("confirm-ok").click(); true`);
      await until(`document.querySelector("#action-result[data-done]") !== null`, "the " + step + "'s result", 60000);
      out.result = await js(`document.getElementById("action-result").textContent`);
      out.result_class = await js(`document.getElementById("action-result").className`);
      await sleep(1500);  // the event stream redraws the view
      await shot(step + "-done");
    }
  }
  await sleep(500);
  console.log(JSON.stringify(out));
  await client.close();
})().catch((e) => { console.log(JSON.stringify({ fatal: String(e && e.stack || e) })); process.exit(1); });
