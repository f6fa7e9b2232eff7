// Tools > Registration buffer in headless Chromium (Debian's chromium, driven by playwright-core) against the real
// WordPress of the e2e stack: log in, open the page from the menu, check that its stylesheet applies, the headline
// (flowing / behind / stalled / unreachable / off), the figures under it and the problems list against the plugin's
// status, check that every figure under "All counters" equals reg_buffer_stats() (read by PHP just before and just
// after the page was rendered) and that the totals shown are exactly the extension's `counters`, that nothing
// overflows at 1280 and 782 px, press Retry on a quarantined entry, check that a request without the nonce is
// refused, retry one set-aside registration and purge another, and save screenshots (and the page's HTML).
//
// E2E_MODE: unset (a backlog, a quarantine and set-aside registrations: the whole walk above), redis-down (Redis
// was stopped by the caller), clear (everything dealt with).
// Env: E2E_BASE (http://127.0.0.1:PORT), E2E_HOST (the site's host), E2E_ADMIN_PASSWORD, E2E_RETRY (quarantine
// entry to retry), E2E_SET_ASIDE_RETRY / E2E_SET_ASIDE_PURGE (set-aside ids), E2E_ARTIFACTS (screenshot dir),
// E2E_STATUS_PHP + STACK_WP_HOST + STACK_WP_LOAD (status.php). E2E_UPDATE_SCREENSHOT=1 also writes the viewport
// of the page to docs/admin-status.png (the screenshot the docs show; commit it when the page changed).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const env = (name) => {
  const v = process.env[name];
  if (!v) { console.error(`${name} is not set`); process.exit(2); }
  return v;
};
const mode = process.env.E2E_MODE || 'walk';
const base = env('E2E_BASE');
const host = env('E2E_HOST');
const port = new URL(base).port;
const site = `http://${host}:${port}`;
const artifacts = env('E2E_ARTIFACTS');
const retryEntry = mode === 'walk' ? env('E2E_RETRY') : '';

let failures = 0;
const fail = (what) => { failures++; console.error(`  FAIL: ${what}`); };

// The figures of reg_buffer_stats() the page must show (at least: it shows every one it returns), and those it shows
// as a length of time rather than as a number.
const STAT_KEYS = ['pending', 'in_flight', 'buffered', 'events', 'oldest_pending_age', 'quarantined', 'maxmemory_policy',
  'pushed', 'duplicates', 'claimed', 'acked', 'redelivered', 'retried', 'lost', 'last_ack_age', 'epoch', 'run_id',
  'uptime', 'persistence'];
const DURATION_KEYS = ['oldest_pending_age', 'last_ack_age'];
const PLUGIN_KEYS = ['fallbacks', 'stored', 'set_aside'];
const REPORT_KEYS = ['mode', 'warning_codes', 'redis_persistence', 'buffer_error'];

// What reg_buffer_stats() and the plugin's status say, from PHP (same site, same Redis).
function status() {
  const out = execFileSync('php', [env('E2E_STATUS_PHP'), 'buffer', ...PLUGIN_KEYS, ...REPORT_KEYS], { env: process.env, encoding: 'utf8' });
  const [buffer, ...rest] = out.trim().split('\n').map((l) => JSON.parse(l));
  const plugin = Object.fromEntries(PLUGIN_KEYS.map((k, i) => [k, rest[i]]));
  const report = Object.fromEntries(REPORT_KEYS.map((k, i) => [k, rest[PLUGIN_KEYS.length + i]]));
  return { buffer, plugin, report };
}
// The page's problems: the status's warnings, plus "no persistence", which the page adds.
function expectedProblems(s) {
  const codes = [...s.report.warning_codes];
  const persistence = (s.buffer && s.buffer.persistence) || s.report.redis_persistence;
  if (s.report.mode === 'buffer' && persistence === 'none' && !codes.includes('persistence')) codes.push('persistence');
  return codes.sort();
}
const inRange = (v, lo, hi) => (typeof v === 'number' && typeof lo === 'number' && typeof hi === 'number'
  ? v >= Math.min(lo, hi) && v <= Math.max(lo, hi)
  : JSON.stringify(v) === JSON.stringify(lo) || JSON.stringify(v) === JSON.stringify(hi));

// The headline and the problems list: one state, and exactly the status's warnings, each with what to do.
async function checkHeadline(page, state, before, after) {
  const headline = page.locator('.reg-buffer-headline');
  if (await headline.count() !== 1) { fail('no headline'); return; }
  const shown = await headline.getAttribute('data-state');
  if (shown !== state) fail(`headline state: ${shown}, expected ${state}`);
  const codes = (await page.$$eval('.reg-buffer-problem', (els) => els.map((e) => e.dataset.code))).sort();
  const want = [expectedProblems(before), expectedProblems(after)].map((c) => JSON.stringify(c));
  if (!want.includes(JSON.stringify(codes))) fail(`problems listed: ${JSON.stringify(codes)}, the status says ${want.join(' then ')}`);
  const actionless = await page.$$eval('.reg-buffer-problem', (els) => els.filter((e) => !(e.querySelector('.reg-buffer-action')?.textContent || '').trim()).map((e) => e.dataset.code));
  if (actionless.length) fail(`problems without an action: ${actionless.join(', ')}`);
  if (codes.length === 0 && await page.locator('.reg-buffer-no-problems').count() !== 1) fail('no problem, and the page does not say so');
  const verdict = (await page.locator('.reg-buffer-verdict').innerText()).trim();
  console.log(`  ${mode}: "${verdict}" (${shown}, ${await headline.getAttribute('data-severity')}); problems: ${codes.join(', ') || 'none'}`);
  return codes;
}

// The figures under the headline, against reg_buffer_stats() and the status.
async function checkFigures(page, before, after) {
  const fig = await page.$$eval('[data-figure]', (els) => Object.fromEntries(els.map((e) => [e.dataset.figure, {
    value: JSON.parse(e.dataset.value), text: e.querySelector('.reg-buffer-figure-value').textContent,
  }])));
  const buffered = (s) => (s.buffer ? s.buffer.buffered : null);
  const field = (s, k) => (s.buffer ? s.buffer[k] : null);
  const checks = [
    ['backlog', buffered(before), buffered(after)],
    ['behind', field(before, 'oldest_pending_age'), field(after, 'oldest_pending_age')],
    ['last_flush', field(before, 'last_ack_age'), field(after, 'last_ack_age')],
    ['fallbacks', before.plugin.fallbacks, after.plugin.fallbacks],
  ];
  for (const [key, lo, hi] of checks) {
    const f = fig[key];
    if (!f) { fail(`no figure ${key}`); continue; }
    if (!inRange(f.value, lo, hi)) fail(`figure ${key}: ${JSON.stringify(f.value)}, the status said ${JSON.stringify(lo)} then ${JSON.stringify(hi)}`);
  }
  if (fig.backlog && Number.isInteger(fig.backlog.value) && fig.backlog.text.replace(/[^0-9]/g, '') !== String(fig.backlog.value)) {
    fail(`backlog reads "${fig.backlog.text}", not ${fig.backlog.value}`);
  }
  console.log(`  figures: ${Object.entries(fig).map(([k, f]) => `${k} "${f.text}"`).join(', ')}`);
}

// Every counter under "All counters" equals reg_buffer_stats() (closed until clicked).
async function checkCounters(page, before, after) {
  const details = page.locator('details.reg-buffer-counters');
  if (await details.count() !== 1) { fail('no "All counters"'); return; }
  if (await details.evaluate((d) => d.open)) fail('"All counters" is open before it is clicked');
  await details.locator('summary').click();
  if (!(await details.evaluate((d) => d.open))) fail('"All counters" does not open');
  const shown = await page.$$eval('[data-stat]', (els) => Object.fromEntries(els.map((e) => [e.dataset.stat, {
    value: JSON.parse(e.dataset.value), text: e.querySelector('.reg-buffer-num').textContent, visible: e.offsetParent !== null,
  }])));
  // Every figure reg_buffer_stats() returns, the documented ones at least. Not figures: `process` (this PHP
  // process's own counters) and `counters` (the list of the lifetime counters' names).
  const figures = Object.keys(before.buffer).filter((k) => { const v = before.buffer[k]; return v === null || typeof v !== 'object'; });
  const keys = [...new Set([...STAT_KEYS, ...figures])];
  for (const key of keys) {
    const s = shown[key];
    if (!s) { fail(`"All counters" does not show ${key}`); continue; }
    if (!s.visible) fail(`${key} is not visible once "All counters" is open`);
    if (!inRange(s.value, before.buffer[key], after.buffer[key])) {
      fail(`${key}: page shows ${JSON.stringify(s.value)}, reg_buffer_stats() said ${JSON.stringify(before.buffer[key])} then ${JSON.stringify(after.buffer[key])}`);
    }
    if (DURATION_KEYS.includes(key)) {
      if (s.value === null ? s.text !== '—' : !/^\d+ (second|seconds|min \d+ s)$|hour|day|week|month|year/.test(s.text)) fail(`${key}: text "${s.text}" is not a length of time`);
    } else if (Number.isInteger(s.value) && s.text.replace(/[^0-9]/g, '') !== String(s.value)) fail(`${key}: text "${s.text}" is not ${s.value}`);
    if (typeof s.value === 'string' && s.text !== s.value) fail(`${key}: text "${s.text}" is not ${s.value}`);
  }
  // The totals are exactly the counters the extension names.
  const totals = await page.$$eval('table[data-group="lifetime"] [data-stat]', (els) => els.map((e) => e.dataset.stat));
  if (!Array.isArray(before.buffer.counters)) fail(`reg_buffer_stats() has no list of counters: ${JSON.stringify(before.buffer.counters)}`);
  else if (JSON.stringify([...totals].sort()) !== JSON.stringify([...before.buffer.counters].sort())) {
    fail(`the totals shown are ${totals.join(', ')}, reg_buffer_stats() names ${before.buffer.counters.join(', ')}`);
  }
  for (const key of PLUGIN_KEYS) {
    const s = shown[`plugin.${key}`];
    if (!s || s.value !== after.plugin[key]) fail(`plugin ${key}: page shows ${JSON.stringify(s && s.value)}, status says ${after.plugin[key]}`);
  }
  console.log(`  "All counters" shows ${Object.keys(shown).length}, equal to reg_buffer_stats(): pending ${shown.pending?.value}, quarantined ${shown.quarantined?.value}, pushed ${shown.pushed?.value}, acked ${shown.acked?.value}; totals: ${totals.join(', ')}`);
}

// The page's stylesheet is there and applies (the figures are laid out as cards, not run together as inline text).
async function checkStyled(page) {
  if (await page.locator('style#reg-buffer-admin-inline-css').count() !== 1) fail('the page\'s stylesheet is not printed');
  const layout = await page.evaluate(() => {
    const figures = document.querySelector('.reg-buffer-figures');
    const value = document.querySelector('.reg-buffer-figure-value');
    return { figures: figures && getComputedStyle(figures).display, value: value && getComputedStyle(value).display };
  });
  if (layout.figures !== 'grid' || layout.value !== 'block') fail(`the stylesheet does not apply: figures ${layout.figures}, figure value ${layout.value}`);
}

// Nothing sticks out of the page at this width (every <details> open): no element of the page ends right of its
// content area, and the document does not scroll sideways.
async function checkFits(page, width) {
  await page.setViewportSize({ width, height: 900 });
  const out = await page.evaluate(() => {
    document.querySelectorAll('.reg-buffer-admin details').forEach((d) => { d.open = true; });
    const wrap = document.querySelector('.reg-buffer-admin');
    const right = wrap.getBoundingClientRect().right + 1;
    const over = [];
    for (const el of wrap.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > right) over.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} (${Math.round(r.right - right)} px)`);
    }
    return { over: over.slice(0, 8), scroll: document.documentElement.scrollWidth - document.documentElement.clientWidth };
  });
  if (out.over.length) fail(`at ${width} px these stick out of the page: ${out.over.join(', ')}`);
  if (out.scroll > 0) fail(`at ${width} px the page scrolls sideways by ${out.scroll} px`);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  // The site's host name resolves to the private nginx.
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', `--host-resolver-rules=MAP ${host} 127.0.0.1`],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  // Log in.
  await page.goto(`${site}/wp-login.php`);
  await page.fill('#user_login', 'admin');
  await page.fill('#user_pass', env('E2E_ADMIN_PASSWORD'));
  // Logged in once the dashboard's URL commits (its cookies came with the redirect): the dashboard's own load is
  // not this test's, and on a loaded machine with Redis stopped it once outlasted the 30 s wait.
  await Promise.all([page.waitForURL(/\/wp-admin\//, { waitUntil: 'commit', timeout: 60000 }), page.click('#wp-submit')]);
  console.log('  logged in as admin');

  if (mode !== 'walk') {
    // Redis stopped by the caller: "unreachable" in red, with what to do, and the page still renders. Clear: flowing.
    const before = status();
    await page.goto(`${site}/wp-admin/tools.php?page=reg-buffer`);
    const after = status();
    await checkStyled(page);
    const codes = await checkHeadline(page, mode === 'redis-down' ? 'unreachable' : 'flowing', before, after);
    await checkFigures(page, before, after);
    await page.screenshot({ path: `${artifacts}/admin-page-${mode}.png` });
    if (mode === 'redis-down') {
      if (!codes.includes('redis_down')) fail('no "Redis is unreachable" problem');
      if ((await page.locator('.reg-buffer-problem').first().getAttribute('data-code')) !== 'redis_down' && !codes.includes('redis_data_lost')) fail('"Redis is unreachable" is not listed first');
      if (await page.locator('[data-figure="backlog"]').getAttribute('data-value') !== 'null') fail('a backlog is shown while Redis cannot be asked');
      if (!(await page.locator('[data-fact="redis"] td').textContent()).startsWith('unreachable')) fail('the Redis fact does not say unreachable');
    } else {
      if (!codes.every((c) => ['capacity', 'persistence'].includes(c))) fail(`problems left once everything was dealt with: ${codes.join(', ')}`);
      await checkCounters(page, before, after);
    }
    await checkFits(page, 1280);
    await checkFits(page, 782);
    if (consoleErrors.length) fail(`JavaScript errors on the page: ${consoleErrors.join('; ')}`);
    await browser.close();
    process.exit(failures ? 1 : 0);
  }

  // Open the page from the Tools menu, as an operator would.
  const before = status();
  await page.goto(`${site}/wp-admin/tools.php`);
  const link = page.locator('#menu-tools a[href="tools.php?page=reg-buffer"]');
  if (await link.count() !== 1) fail('Tools menu has no "Registration buffer" item');
  else if ((await link.innerText()).trim() !== 'Registration buffer') fail(`menu item reads "${await link.innerText()}"`);
  await Promise.all([page.waitForURL(/page=reg-buffer/), link.click()]);
  const after = status();
  const title = await page.locator('.reg-buffer-admin h1').innerText();
  if (title !== 'Registration buffer') fail(`page title: ${title}`);
  await checkStyled(page);

  // Flowing with a backlog, a quarantine and set-aside registrations: each a problem with what to do.
  const codes = await checkHeadline(page, 'flowing', before, after);
  for (const code of ['quarantine', 'set_aside']) if (!codes.includes(code)) fail(`no "${code}" problem`);
  if (await page.locator('.reg-buffer-problem[data-code="quarantine"] .reg-buffer-action a[href="#quarantine"]').count() !== 1) fail('the quarantine problem does not link to the quarantine');
  if (!(await page.locator('.reg-buffer-problem[data-code="quarantine"] .reg-buffer-action').innerText()).includes('wp reg-buffer quarantine list')) fail('the quarantine problem does not name wp reg-buffer quarantine list');
  if (await page.locator('.reg-buffer-headline').getAttribute('data-severity') !== 'warning') fail('with a quarantine the headline is not yellow');
  await checkFigures(page, before, after);
  if ((after.buffer.buffered || 0) === 0 && (before.buffer.buffered || 0) === 0) fail('no backlog to show (the setup pushed registrations after the flush)');
  await page.screenshot({ path: `${artifacts}/admin-status.png` });
  if (process.env.E2E_UPDATE_SCREENSHOT) {
    const docs = fileURLToPath(new URL('../../../docs/admin-status.png', import.meta.url));
    copyFileSync(`${artifacts}/admin-status.png`, docs);
    console.log(`  wrote ${docs}`);
  }
  await checkCounters(page, before, after);
  const charts = await page.locator('svg.reg-buffer-chart').count();
  const lines = await page.locator('svg.reg-buffer-chart polyline').count();
  if (charts !== 2 || lines < 3) fail(`charts: ${charts} drawn with ${lines} lines (expected 2 charts, 3 lines or more)`);
  await page.screenshot({ path: `${artifacts}/admin-page.png`, fullPage: true });
  writeFileSync(`${artifacts}/admin-page.html`, await page.content());
  await checkFits(page, 782);
  await page.screenshot({ path: `${artifacts}/admin-page-782.png`, fullPage: true });
  await checkFits(page, 1280);

  // A POST without the nonce is refused, and changes nothing.
  const forged = await page.evaluate(async ([url, entry]) => (await fetch(url, {
    method: 'POST', redirect: 'manual', body: new URLSearchParams({ action: 'reg_buffer_admin', op: 'purge', entry }),
  })).status, [`${site}/wp-admin/admin-post.php`, retryEntry]);
  if (forged !== 403) fail(`POST without a nonce answered ${forged}`);
  if (status().buffer.quarantined !== after.buffer.quarantined) fail('the forged purge changed the quarantine');

  // Retry.
  const row = page.locator(`tr[data-entry="${retryEntry}"]`);
  if (await row.count() !== 1) fail(`the quarantine table has no row ${retryEntry}`);
  // admin-post.php answers with a redirect back to the same URL: wait for the result notice of the new page.
  await row.locator('button[data-op="retry"]').click();
  const notice = page.locator('.reg-buffer-result');
  await notice.waitFor();
  const noticeText = (await notice.count()) ? await notice.innerText() : '';
  if (!(await notice.getAttribute('class') || '').includes('notice-success') || !noticeText.includes('buffered again')) {
    fail(`after Retry: ${noticeText || 'no notice'}`);
  }
  if (await page.locator(`tr[data-entry="${retryEntry}"]`).count() !== 0) fail('the retried entry is still listed');
  const quarantined = JSON.parse(await page.locator('[data-stat="quarantined"]').getAttribute('data-value'));
  if (quarantined !== after.buffer.quarantined - 1) fail(`quarantined after Retry: ${quarantined}, expected ${after.buffer.quarantined - 1}`);
  console.log(`  Retry: "${noticeText.trim()}"`);
  await page.screenshot({ path: `${artifacts}/admin-page-after-retry.png`, fullPage: true });
  // Set aside: Retry registers one again, Purge (after its confirm dialog) deletes the other.
  page.on('dialog', (d) => d.accept());
  for (const [op, id, says] of [['set_aside_retry', env('E2E_SET_ASIDE_RETRY'), 'registered again'], ['set_aside_purge', env('E2E_SET_ASIDE_PURGE'), 'was purged']]) {
    const saRow = page.locator(`tr[data-set-aside="${id}"]`);
    if (await saRow.count() !== 1) { fail(`the set-aside table has no row ${id}`); continue; }
    await saRow.locator(`button[data-op="${op}"]`).click();
    await page.locator('.reg-buffer-result').waitFor();
    const text = await page.locator('.reg-buffer-result').innerText();
    if (!text.includes(says)) fail(`after ${op}: ${text}`);
    if (await page.locator(`tr[data-set-aside="${id}"]`).count() !== 0) fail(`${id} is still listed after ${op}`);
    console.log(`  ${op}: "${text.trim()}"`);
  }
  if (await page.locator('.reg-buffer-empty-set-aside').count() !== 1) fail('the page does not say that nothing is set aside');
  if (await page.locator('.reg-buffer-problem[data-code="set_aside"]').count() !== 0) fail('"set aside" is still a problem once none is left');
  if (consoleErrors.length) fail(`JavaScript errors on the page: ${consoleErrors.join('; ')}`);
  console.log(`  screenshots: ${artifacts}/admin-status.png (viewport), admin-page.png, admin-page-782.png, admin-page-after-retry.png`);
} finally {
  await browser.close();
}
process.exit(failures ? 1 : 0);
