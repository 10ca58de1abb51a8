/**
 * The search page in headless Chromium (Debian's `chromium`, driven by playwright-core, which
 * downloads no browser of its own). Skips, saying why, where no Chromium is installed.
 * GENIR_SCREENSHOT_OUT=docs/serve-page.png writes the screenshot the docs show.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { serveGenir, type ServedGenir } from '../cli/testing.js';
import { writeTinyDataset, writeTinyModel } from '../cli/testdata/tiny-model.js';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (path) => path !== undefined && path !== '' && existsSync(path),
);
const skip = CHROMIUM === undefined ? 'no Chromium (apt-get install chromium, or set CHROMIUM_PATH)' : false;

let root: string;
let server: ServedGenir;
let browser: Browser;
/** Every URL the pages asked for. */
const requested: string[] = [];

before(async () => {
  if (skip) return;
  root = mkdtempSync(join(tmpdir(), 'genir-page-'));
  const data = writeTinyDataset(join(root, 'data'));
  const model = await writeTinyModel(join(root, 'model'), { id: data });
  server = await serveGenir(['--model', model, '--port', '0', '--threads', '1']);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  server?.child.kill('SIGTERM');
  await server?.exited;
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

async function open(width: number, height = 900): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height } });
  page.on('request', (request) => requested.push(request.url()));
  await page.goto(`${server.url}/`);
  // Expressions as strings: they run in the page, and this project compiles without DOM types.
  await page.waitForFunction("document.querySelector('#model')?.textContent?.includes('documents')");
  return page;
}

test('type a query: GenIR, BM25 and hybrid rankings side by side; the beam view and a document open', { skip }, async () => {
  const page = await open(1280);
  await page.fill('#query', 'where does glacier melt water go');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#col-hybrid .hits li');
  const titles = (column: string) => page.locator(`#col-${column} .hits li a.title`).allTextContents();
  const [genir, bm25, hybrid] = await Promise.all([titles('genir'), titles('bm25'), titles('hybrid')]);
  assert.equal(genir.length, 4);
  assert.equal(bm25[0], 'Alpine rivers', 'BM25 ranks the glacier document first');
  assert.equal(hybrid.length, 4);
  assert.match(await page.locator('#col-genir .hits li .facts').first().innerText(), /log p -\d+\.\d+ · id d\d · docid #\d/);
  assert.match(await page.locator('#col-hybrid .hits li .facts').first().innerText(), /GenIR #\d, BM25 #(\d|–)/);
  assert.ok((await page.locator('#col-bm25 .snippet').first().innerText()).includes('glaciers'));

  await page.click('#beam-view summary');
  await page.waitForSelector('#beam-steps .step');
  assert.match(await page.locator('#beam-steps .step h3').first().innerText(), /^Step 1: 4 kept, 0 finished, 0 pruned$/);
  assert.equal(await page.locator('#beam-steps li.finished').count(), 4);
  if (process.env.GENIR_SCREENSHOT_OUT) await page.screenshot({ path: process.env.GENIR_SCREENSHOT_OUT, fullPage: true });

  await page.locator('#col-bm25 .hits li a.title').first().click();
  await page.waitForSelector('#document[open]');
  assert.match(await page.locator('#doc-text').innerText(), /Rivers in the Alps carry melt water/);
  await page.keyboard.press('Escape');
  await page.close();
});

test('an empty and an over-long query get a clear message, not a search', { skip }, async () => {
  const page = await open(1280);
  await page.click('button[type=submit]');
  assert.equal(await page.locator('#message').innerText(), 'Type a query to search.');
  await page.fill('#query', 'x'.repeat(4097));
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#message').innerText(), 'The query is 4097 characters; at most 4096 are accepted.');
  assert.equal(await page.locator('.hits li').count(), 0);
  await page.close();
});

test('keyboard and phone width: / focuses the box, Enter searches; one column, nothing wider than the screen', { skip }, async () => {
  const page = await open(390, 800);
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('/');
  assert.equal(await page.evaluate('document.activeElement?.id'), 'query');
  await page.keyboard.type('why do tides rise');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#col-hybrid .hits li');
  const boxes = await Promise.all(['genir', 'bm25', 'hybrid'].map((c) => page.locator(`#col-${c}`).boundingBox()));
  assert.ok(
    boxes.every((box) => box !== null && Math.abs(box.x - boxes[0]!.x) < 1 && box.width <= 390),
    'columns stack',
  );
  assert.ok(boxes[0]!.y < boxes[1]!.y && boxes[1]!.y < boxes[2]!.y);
  assert.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'no horizontal scrolling');
  await page.close();
});

test('the page makes no request beyond its own server', { skip }, () => {
  assert.ok(requested.length > 0);
  const foreign = requested.filter((url) => !url.startsWith(`${server.url}/`));
  assert.deepEqual(foreign, []);
});
