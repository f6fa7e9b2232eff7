// Tools > Registration buffer in headless Chromium (Debian's chromium, driven by playwright-core) against the real
// WordPress of the e2e stack: log in, open the page from the menu, check its numbers against reg_buffer_stats()
// (read by PHP just before and just after the page was rendered), press Retry on a quarantined entry, check that a
// request without the nonce is refused, retry one set-aside registration and purge another, and save screenshots.
//
// Env: E2E_BASE (http://127.0.0.1:PORT), E2E_HOST (the site's host), E2E_ADMIN_PASSWORD, E2E_RETRY (quarantine
// entry to retry), E2E_SET_ASIDE_RETRY / E2E_SET_ASIDE_PURGE (set-aside ids), E2E_ARTIFACTS (screenshot dir), E2E_STATUS_PHP + STACK_WP_HOST + STACK_WP_LOAD (status.php).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';

const env = (name) => {
  const v = process.env[name];
  if (!v) { console.error(`${name} is not set`); process.exit(2); }
  return v;
};
const base = env('E2E_BASE');
const host = env('E2E_HOST');
const port = new URL(base).port;
const site = `http://${host}:${port}`;
const artifacts = env('E2E_ARTIFACTS');
const retryEntry = process.env.E2E_MODE === 'redis-down' ? '' : env('E2E_RETRY');

let failures = 0;
const fail = (what) => { failures++; console.error(`  FAIL: ${what}`); };

const STAT_KEYS = ['pending', 'in_flight', 'events', 'oldest_pending_age', 'quarantined', 'maxmemory_policy', 'pushed',
  'duplicates', 'claimed', 'acked', 'redelivered', 'lost'];
const PLUGIN_KEYS = ['fallbacks', 'stored', 'set_aside'];

// What reg_buffer_stats() and the plugin's status say, from PHP (same site, same Redis).
function status() {
  const out = execFileSync('php', [env('E2E_STATUS_PHP'), 'buffer', ...PLUGIN_KEYS], { env: process.env, encoding: 'utf8' });
  const [buffer, ...plugin] = out.trim().split('\n').map((l) => JSON.parse(l));
  return { buffer, plugin: Object.fromEntries(PLUGIN_KEYS.map((k, i) => [k, plugin[i]])) };
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
  await Promise.all([page.waitForURL(/\/wp-admin\//), page.click('#wp-submit')]);
  console.log('  logged in as admin');

  if (process.env.E2E_MODE === 'redis-down') {
    // Redis was stopped by the caller: the page must say so in red, in words, and still render.
    await page.goto(`${site}/wp-admin/tools.php?page=reg-buffer`);
    const state = await page.locator('.reg-buffer-glance').getAttribute('data-state');
    if (state !== 'bad') fail(`at-a-glance state with Redis down: ${state}`);
    const warning = page.locator('.reg-buffer-warnings li[data-code="redis_down"]');
    if (await warning.count() !== 1) fail('no "Redis is unreachable" warning');
    else console.log(`  Redis down: "${(await page.locator('.reg-buffer-verdict').innerText()).trim()}" / "${(await warning.innerText()).trim()}"`);
    if (!(await page.locator('[data-fact="redis"] td').innerText()).startsWith('unreachable')) fail('the Redis fact does not say unreachable');
    await page.screenshot({ path: `${artifacts}/admin-page-redis-down.png`, fullPage: true });
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

  // The numbers: each between what PHP read before and after the page (equal when nothing moved meanwhile).
  const shown = await page.$$eval('[data-stat]', (els) => Object.fromEntries(els.map((e) => [e.dataset.stat, {
    value: JSON.parse(e.dataset.value), text: e.querySelector('.reg-buffer-num').textContent,
  }])));
  // Every count reg_buffer_stats() returns (the per-process ones excepted), the documented ones at least.
  const keys = [...new Set([...STAT_KEYS, ...Object.keys(before.buffer).filter((k) => k !== 'process')])];
  for (const key of keys) {
    const s = shown[key];
    const lo = before.buffer[key];
    const hi = after.buffer[key];
    if (!s) { fail(`the page does not show ${key}`); continue; }
    const ok = typeof s.value === 'number' && typeof lo === 'number' && typeof hi === 'number'
      ? s.value >= Math.min(lo, hi) && s.value <= Math.max(lo, hi)
      : JSON.stringify(s.value) === JSON.stringify(lo) || JSON.stringify(s.value) === JSON.stringify(hi);
    if (!ok) fail(`${key}: page shows ${JSON.stringify(s.value)}, reg_buffer_stats() said ${JSON.stringify(lo)} then ${JSON.stringify(hi)}`);
    if (Number.isInteger(s.value) && s.text.replace(/[^0-9]/g, '') !== String(s.value)) fail(`${key}: text "${s.text}" is not ${s.value}`);
  }
  for (const key of PLUGIN_KEYS) {
    const s = shown[`plugin.${key}`];
    if (!s || s.value !== after.plugin[key]) fail(`plugin ${key}: page shows ${JSON.stringify(s && s.value)}, status says ${after.plugin[key]}`);
  }
  console.log(`  the page shows ${Object.keys(shown).length} counts, equal to reg_buffer_stats(): pending ${shown.pending.value}, quarantined ${shown.quarantined.value}, pushed ${shown.pushed.value}, acked ${shown.acked.value}`);

  // Plain-language state: a quarantine is a warning, not an emergency.
  const state = await page.locator('.reg-buffer-glance').getAttribute('data-state');
  if (state !== 'warn') fail(`at-a-glance state with a quarantine: ${state}`);
  if (await page.locator('.reg-buffer-warnings li[data-code="quarantine"]').count() !== 1) fail('no quarantine warning');
  const charts = await page.locator('svg.reg-buffer-chart').count();
  const lines = await page.locator('svg.reg-buffer-chart polyline').count();
  if (charts !== 2 || lines < 3) fail(`charts: ${charts} drawn with ${lines} lines (expected 2 charts, 3 lines or more)`);
  await page.screenshot({ path: `${artifacts}/admin-page.png`, fullPage: true });

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
  if (consoleErrors.length) fail(`JavaScript errors on the page: ${consoleErrors.join('; ')}`);
  console.log(`  screenshots: ${artifacts}/admin-page.png, admin-page-after-retry.png`);
} finally {
  await browser.close();
}
process.exit(failures ? 1 : 0);
