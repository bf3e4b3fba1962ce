#!/usr/bin/env node
// Loads the service's pages in a real headless browser (Debian's `chromium`) and checks
// that they render: /docs (Swagger UI) shows every route of the OpenAPI document, and
// /admin/queues (the queue dashboard) shows every queue; no console errors, no failed
// loads. Saves a screenshot of each. Not part of `npm test` (it needs the browser).
//   apt-get install chromium            # once
//   node scripts/check-pages.js [--url http://localhost:3000] [--out pages] [--api-key KEY]
// The browser is driven over the DevTools protocol on a pipe (--remote-debugging-pipe):
// no npm package, no browser download.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const args = parseArgs(process.argv.slice(2));
const baseUrl = (args.url || process.env.INGEST_URL || 'http://localhost:3000').replace(/\/+$/, '');
const outDir = args.out || 'pages';
const apiKey = args['api-key'] || process.env.INGEST_API_KEY;
const browserPath = args.browser || process.env.CHROMIUM || 'chromium';
const TIMEOUT_MS = Number(args.timeout || 20000);
const QUEUES = ['ingest', 'ingest-dlq'];

const PAGES = [
  {
    name: 'docs',
    path: '/docs',
    // Every path of the OpenAPI document the page was built from is listed on the page.
    expected: async () => Object.keys((await getJson('/docs/openapi.json')).paths || {}),
    rendered: `[...document.querySelectorAll('.opblock-summary-path')].map((e) => e.getAttribute('data-path') || e.textContent.trim())`,
  },
  {
    name: 'queues',
    path: '/admin/queues',
    expected: async () => QUEUES,
    rendered: `[...document.querySelectorAll('nav a, aside a, [class*="menu"] a, li a')].map((e) => e.textContent.trim())`,
  },
];

function parseArgs(list) {
  const out = {};
  for (let i = 0; i < list.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(list[i]);
    if (!m) throw new Error(`unexpected argument ${list[i]}`);
    out[m[1]] = m[2] !== undefined ? m[2] : list[++i];
  }
  return out;
}

function authHeaders() {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

async function getJson(p) {
  const res = await fetch(baseUrl + p, { headers: authHeaders() });
  if (!res.ok) throw new Error(`GET ${p} answered ${res.status}`);
  return res.json();
}

/** Chromium with the DevTools protocol on fds 3 (commands in) and 4 (events out), NUL-separated JSON. */
function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'check-pages-'));
  const proc = spawn(
    browserPath,
    ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--remote-debugging-pipe', `--user-data-dir=${profile}`, '--window-size=1280,1600', 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const out = proc.stdio[3];
  const input = proc.stdio[4];
  let nextId = 1;
  const pending = new Map();
  const listeners = new Set();
  let buffer = '';
  input.on('data', (chunk) => {
    buffer += chunk.toString('utf8');
    let end;
    while ((end = buffer.indexOf('\0')) >= 0) {
      const msg = JSON.parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 1);
      if (msg.id && pending.has(msg.id)) {
        const { resolve, reject } = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) reject(new Error(`${msg.error.message}`));
        else resolve(msg.result);
      } else for (const l of listeners) l(msg);
    }
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.once('error', (err) => {
    for (const { reject } of pending.values()) reject(err);
  });
  return {
    send(method, params = {}, sessionId) {
      const id = nextId++;
      out.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      proc.kill();
      await exited;
      fs.rmSync(profile, { recursive: true, force: true });
    },
    stderr: () => stderr,
    exited,
  };
}

function offSite(entry) {
  return /ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED/.test(entry.text || '') && !(entry.url || '').startsWith(baseUrl);
}

async function checkPage(browser, page) {
  const problems = [];
  const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true });
  const send = (method, params) => browser.send(method, params, sessionId);
  const off = browser.on((msg) => {
    if (msg.sessionId !== sessionId) return;
    if (msg.method === 'Runtime.consoleAPICalled' && ['error', 'assert'].includes(msg.params.type)) {
      problems.push(`console.${msg.params.type}: ${msg.params.args.map((a) => a.value ?? a.description ?? '').join(' ')}`);
    } else if (msg.method === 'Runtime.exceptionThrown') {
      const d = msg.params.exceptionDetails;
      problems.push(`uncaught: ${(d.exception && d.exception.description) || d.text}`);
    } else if (msg.method === 'Log.entryAdded' && msg.params.entry.level === 'error' && !/\/favicon\.ico$/.test(msg.params.entry.url || '') && !offSite(msg.params.entry)) {
      // (The browser asks for /favicon.ico on its own; a page does not fail for lacking one. A web font
      // the dashboard links from another site is optional: machines without internet cannot load it.)
      problems.push(`browser: ${msg.params.entry.text}${msg.params.entry.url ? ` (${msg.params.entry.url})` : ''}`);
    }
  });
  try {
    await Promise.all([send('Runtime.enable'), send('Log.enable'), send('Page.enable'), send('Network.enable')]);
    await send('Network.setExtraHTTPHeaders', { headers: authHeaders() });
    const expected = await page.expected();
    const nav = await send('Page.navigate', { url: baseUrl + page.path });
    if (nav.errorText) throw new Error(`${page.path}: ${nav.errorText}`);
    // Wait until every expected item shows (the pages render from their own API calls).
    const deadline = Date.now() + TIMEOUT_MS;
    let missing = expected;
    for (;;) {
      const { result } = await send('Runtime.evaluate', { expression: page.rendered, returnByValue: true });
      const shown = new Set(result.value || []);
      missing = expected.filter((e) => !shown.has(e));
      if (missing.length === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const status = await send('Runtime.evaluate', { expression: 'document.title + " | " + document.body.innerText.slice(0, 120)', returnByValue: true });
    if (missing.length > 0) problems.push(`not rendered: ${missing.join(', ')} (page: ${JSON.stringify(status.result.value)})`);
    const shot = await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
    fs.mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `${page.name}.png`);
    fs.writeFileSync(file, Buffer.from(shot.data, 'base64'));
    return { page: page.path, expected: expected.length, problems, screenshot: file };
  } finally {
    off();
    await browser.send('Target.closeTarget', { targetId }).catch(() => undefined);
  }
}

async function main() {
  const browser = launch();
  const failed = await Promise.race([browser.exited.then(() => new Error(`${browserPath} exited: ${browser.stderr().slice(-500)}`)), browser.send('Browser.getVersion').then(() => null)]);
  if (failed) throw failed;
  let ok = true;
  try {
    for (const page of PAGES) {
      try {
        const r = await checkPage(browser, page);
        ok = ok && r.problems.length === 0;
        console.log(`${r.problems.length === 0 ? 'ok  ' : 'FAIL'} ${r.page}: ${r.expected} expected items, screenshot ${r.screenshot}`);
        for (const p of r.problems) console.log(`     ${p}`);
      } catch (err) {
        ok = false;
        console.log(`FAIL ${page.path}: ${err.message}`);
      }
    }
  } finally {
    await browser.close();
  }
  process.exitCode = ok ? 0 : 1;
}

main().catch((err) => {
  console.error(`check-pages: ${err.message}`);
  process.exitCode = 2;
});
