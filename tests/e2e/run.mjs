// Browser end-to-end test of drak-web (issue 7) in headless Debian Chromium via playwright-core.
// Starts `web_bench env` (redis-server + s3rver + drak-web serving web/dist, with a finished
// analysis seeded from real DRAKVUF output), uploads a ground-truth program through the UI and
// checks the Karton task it created in Redis, then walks the seeded analysis: summary, process
// tree, paged log viewer, API calls, downloads. Screenshots go to $E2E_OUT (default out/<time>).
//
//   DRAK_BUILD_DIR=/work/main/build npm test      (after npm install here and in web/)
import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const build = path.resolve(process.env.DRAK_BUILD_DIR || path.join(repo, 'build'));
const outDir = path.resolve(process.env.E2E_OUT || path.join(here, 'out', new Date().toISOString().replace(/[:.]/g, '-')));
fs.mkdirSync(outDir, { recursive: true });

const failures = [];
function check(cond, what) {
  if (cond) console.log(`  ok   ${what}`);
  else { console.log(`  FAIL ${what}`); failures.push(what); }
}

function findSample() {
  const dir = path.join(build, 'programs');
  for (const [file, platform] of [['pe_behaviour64.exe', 'win64'], ['pe_behaviour32.exe', 'win32'], ['elf_behaviour', 'linux']]) {
    const p = path.join(dir, file);
    if (fs.existsSync(p)) return { path: p, platform, name: file };
  }
  throw new Error(`no ground-truth program in ${dir}: build the test_programs target first`);
}

async function startEnv() {
  const bin = path.join(build, 'bench/web/web_bench');
  if (!fs.existsSync(bin)) throw new Error(`${bin} missing: cmake --build ${build} --target web_bench`);
  const dist = path.join(repo, 'web/dist');
  if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error('web/dist missing: run npm run build in web/');
  const child = spawn(bin, ['env', '--static-dir', dist], { cwd: repo, stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout });
  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('web_bench env did not start in 90 s')), 90000);
    rl.once('line', (l) => { clearTimeout(timer); resolve(JSON.parse(l)); });
    child.once('exit', (code) => reject(new Error(`web_bench env exited (${code})`)));
  });
  return { child, info };
}

async function main() {
  const sample = findSample();
  const { child, info } = await startEnv();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'drak-e2e-profile-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = context.pages()[0] || await context.newPage();
    const consoleErrors = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    const shot = (name) => page.screenshot({ path: path.join(outDir, name), fullPage: false });

    console.log(`drak-web at ${info.url}; screenshots in ${outDir}`);
    // 1. Home: recent analyses show the seeded one.
    await page.goto(info.url + '/');
    await page.waitForSelector('[data-testid=recent-table] tbody tr');
    check((await page.locator('[data-testid=recent-table] tbody tr').count()) >= 1, 'recent analyses list the seeded analysis');
    await shot('01-home.png');

    // 2. Upload a ground-truth program through the form.
    await page.setInputFiles('[data-testid=file-input]', sample.path);
    await page.fill('input[placeholder="600"]', '120');
    await shot('02-upload-ready.png');
    await page.click('[data-testid=submit]');
    await page.waitForURL(/\/analysis\//, { timeout: 30000 });
    const uploadedUid = decodeURIComponent(page.url().split('/analysis/')[1]);
    await page.waitForSelector('[data-testid=pending]');
    check(true, `upload navigated to the pending analysis ${uploadedUid}`);
    await shot('03-upload-pending.png');
    const taskText = execFileSync('redis-cli', ['-p', String(info.redis_port), 'GET', `karton.task:${uploadedUid}`]).toString();
    const task = JSON.parse(taskText);
    check(task.headers.type === 'sample' && task.headers.stage === 'recognized', 'task headers type=sample stage=recognized');
    check(task.headers.platform === sample.platform, `platform header ${task.headers.platform} = ${sample.platform} (from the file)`);
    check(task.payload.override_uid === uploadedUid, 'payload override_uid = task uid');
    check(task.payload.timeout === 120, 'timeout from the form');
    check(!!task.payload.sample && !!task.payload.sample.__karton_resource__, 'sample resource attached');
    const queue = execFileSync('redis-cli', ['-p', String(info.redis_port), 'LRANGE', 'karton.tasks', '0', '-1']).toString();
    check(queue.includes(uploadedUid), 'task queued on karton.tasks');
    const status = JSON.parse(execFileSync('redis-cli', ['-p', String(info.redis_port), 'GET', `drakrun.analysis:${uploadedUid}`]).toString());
    check(status.status === 'pending', 'status record pending');

    // 3. The seeded (finished) analysis.
    await page.goto(`${info.url}/analysis/${encodeURIComponent(info.uid)}`);
    await page.waitForSelector('[data-testid=summary-stats]');
    const stats = await page.locator('[data-testid=summary-stats]').innerText();
    check(/processes/.test(stats), 'summary from report.json');
    await shot('04-summary.png');

    await page.keyboard.press('2');
    await page.waitForSelector('[data-testid=tree-node]');
    const nodes = await page.locator('[data-testid=tree-node]').count();
    check(nodes > 3, `process tree has ${nodes} nodes`);
    const target = page.locator('[data-testid=tree-node]', { hasText: /dllhost\.exe/i }).first();
    await target.click();
    await page.waitForSelector('[data-testid=process-detail] h3');
    check((await page.locator('[data-testid=process-detail]').innerText()).toLowerCase().includes('dllhost.exe'), 'process detail opens on click');
    await shot('05-process-tree.png');

    await page.keyboard.press('3');
    await page.waitForSelector('[data-testid=log-table] tr');
    const firstPage = await page.locator('[data-testid=log-page]').innerText();
    check(/page 1 \/ \d+/.test(firstPage), `log viewer paged by the index (${firstPage})`);
    await shot('06-logs.png');
    await page.keyboard.press('n');
    await page.waitForFunction(() => /page 2/.test(document.querySelector('[data-testid=log-page]').innerText));
    await page.waitForSelector('[data-testid=log-table] tr');
    const rows2 = await page.locator('[data-testid=log-table] tr').count();
    check(rows2 > 10, `second log page loaded with a Range request (${rows2} rows)`);
    await page.click('[data-testid=log-apimon]');
    await page.waitForFunction(() => /page 1/.test(document.querySelector('[data-testid=log-page]').innerText));
    await page.waitForSelector('[data-testid=log-table] tr');
    await shot('07-logs-apimon.png');

    await page.keyboard.press('4');
    await page.selectOption('[data-testid=api-pid]', '4852');
    await page.waitForSelector('[data-testid=api-table] tbody tr');
    const calls = await page.locator('[data-testid=api-table] tbody tr').count();
    check(calls > 0, `API calls of pid 4852 (${calls})`);
    await shot('08-api-calls.png');

    await page.keyboard.press('5');
    await page.waitForSelector('.downloads a');
    const pcapHref = await page.locator('.downloads a', { hasText: 'Network capture' }).getAttribute('href');
    const resp = await page.request.get(info.url + pcapHref);
    const body = await resp.body();
    check(resp.status() === 200 && body.slice(0, 2).toString() === 'PK', 'pcap download is a zip');
    await shot('09-downloads.png');

    await page.goto(info.url + '/');
    await page.waitForSelector('[data-testid=recent-table] tbody tr');
    check((await page.locator('[data-testid=recent-table] tbody tr').count()) >= 2, 'recent list shows the upload too');
    await shot('10-home-after-upload.png');
    check(consoleErrors.length === 0, `no console errors (${consoleErrors.join(' | ')})`);
  } finally {
    if (context) await context.close();
    child.stdin.end();
    await new Promise((r) => { child.once('exit', r); setTimeout(r, 10000); });
    fs.rmSync(profile, { recursive: true, force: true });
  }
  if (failures.length) {
    console.log(`\n${failures.length} check(s) failed`);
    process.exit(1);
  }
  console.log('\nall e2e checks passed');
}

main().catch((e) => { console.error(e); process.exit(1); });
