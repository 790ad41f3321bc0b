// The playground in headless Chromium: the built page (build/playground) is served on 127.0.0.1,
// a user picks examples, types a map with a bad line and images, and pastes the e2e requests; the
// page must show what the policy does. Run by `make browser-test` (part of `make test`):
//
//   PLAYWRIGHT_CORE=build/tools/node_modules/playwright-core node playground/tests/browser.mjs BUILT_PAGE_DIR [SCREENSHOT.png]
//
// Chromium comes from Debian's `chromium` package (CHROMIUM overrides the path), driven by the npm
// package playwright-core (installed by the Makefile outside the source tree).
import { readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { extname, join, resolve } from 'node:path';

const { chromium } = createRequire(import.meta.url)(resolve(process.env.PLAYWRIGHT_CORE ?? 'playwright-core'));

const [root, screenshot] = process.argv.slice(2);
const repo = resolve(new URL('../..', import.meta.url).pathname);
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

const base = resolve(root);
const server = createServer((request, response) => {
  const file = resolve(base, `.${request.url === '/' ? '/index.html' : request.url.split('?')[0]}`);
  if (!file.startsWith(base) || !existsSync(file)) {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
  response.end(readFileSync(file));
});
await new Promise((ready) => server.listen(0, '127.0.0.1', ready));
const url = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // A fresh profile each run (Playwright's default); no sandbox (CI runs as root); nothing that
  // calls out of the machine, which reaches only package registries.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const failures = [];
const check = (what, got, expected) => {
  if (JSON.stringify(got) !== JSON.stringify(expected)) {
    failures.push(`${what}: got ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
  }
};

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('pageerror', (error) => failures.push(`page error: ${error.message}`));
  page.on('console', (message) => message.type() === 'error' && failures.push(`console: ${message.text()}`));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });

  // The rows of the results table: [image cell, becomes, line, why].
  const rows = () => page.$$eval('#results tbody tr', (trs) => trs.map((tr) => ({
    field: tr.dataset.field,
    // The image cell holds the image, then its field (for objects) in a <small>.
    cells: [...tr.cells].map((td) => td.firstChild?.textContent ?? ''),
    error: tr.querySelector('td.error')?.textContent ?? null,
  })));
  const row = async (image) => (await rows()).find((r) => r.cells[0] === image)?.cells;

  // 1. The page starts with the first seed example and the sample images.
  check('examples offered', await page.$$eval('#example option', (os) => os.map((o) => o.textContent)),
    ['Override a Specific Registry', 'Apply a Global Swap with an Exception', 'Swap a Specific Image', 'Replace Image Path']);
  check('first example, demo image', await row('example.private.io/demo:v1.0.0'),
    ['example.private.io/demo:v1.0.0', 'harbor.internal.example.com/demo:v1.0.0', '2', 'registry/path key (longest match)']);
  check('first example, nginx', await row('nginx:1.25'), ['nginx:1.25', 'left as written', '1', 'default']);

  // 2. Picking another example re-decides every image.
  await page.selectOption('#example', { label: 'Apply a Global Swap with an Exception' });
  check('global swap, nginx', await row('nginx:1.25'),
    ['nginx:1.25', 'harbor.internal.example.com/library/nginx:1.25', '1', 'default']);
  check('global swap, exception', await row('example.private.io/team/api:2.1'),
    ['example.private.io/team/api:2.1', 'left as written', '2', 'registry/path key (longest match)']);

  // 3. A user types a map with a bad line: the line is named and no image is decided.
  await page.fill('#map', '');
  await page.locator('#map').pressSequentially('default::harbor.example.com\nbitnami::x.example.com');
  check('error lines', await page.$$eval('#errors li', (lis) => lis.map((li) => [li.dataset.line, li.textContent])),
    [['2', 'line 2 "bitnami::x.example.com": key must start with a registry (a host with `.` or `:`, or `localhost`); did you mean `docker.io/bitnami` (a Docker Hub namespace) or `docker.io/library/bitnami` (the official image)?']]);
  check('status with a bad map', await page.textContent('#status'),
    'The policy refuses this map (1 bad line); fix it to see the images decided.');
  check('no results with a bad map', (await rows()).length, 0);

  // 4. Fixing the line (typing) brings the results back; new images typed in are decided.
  await page.locator('#map').press('End');
  for (let i = 0; i < 'bitnami::x.example.com'.length; i += 1) await page.locator('#map').press('Backspace');
  await page.locator('#map').pressSequentially('docker.io/bitnami::x.example.com/bitnami');
  check('errors after the fix', await page.$$eval('#errors li', (lis) => lis.length), 0);
  await page.fill('#images', '');
  await page.locator('#images').pressSequentially('bitnami/redis:7\nnginx:-bad');
  check('typed image', await row('bitnami/redis:7'),
    ['bitnami/redis:7', 'x.example.com/bitnami/redis:7', '2', 'registry/path key (longest match)']);
  check('typed bad image', await row('nginx:-bad'),
    ['nginx:-bad', '"nginx:-bad" is not a valid image reference: invalid reference format']);

  // 4b. A rule with an ordered list of targets (checkTargetExists) shows the later targets.
  await page.fill('#map', 'default::a.example.com, b.example.com');
  await page.fill('#images', 'nginx:1.25');
  check('listed targets', await row('nginx:1.25'),
    ['nginx:1.25', 'a.example.com/library/nginx:1.25', '1', 'default (when not found: b.example.com/library/nginx:1.25)']);

  // 4c. Recorded registry answers: the first target found wins, pinned with digest: pin, and each
  // lookup is shown.
  await page.fill('#map', 'default::harbor.internal.example.com, harbor-dr.internal.example.com');
  await page.selectOption('#digest', 'pin');
  await page.fill('#images', 'nginx:1.25\nbusybox');
  await page.fill('#platforms', 'linux/amd64, linux/arm64');
  await page.fill('#lookups', readFileSync(join(repo, 'tests/cases/lookups/harbor-mirrors.json'), 'utf8'));
  const pinned = await row('nginx:1.25');
  check('looked-up image', pinned.slice(0, 3), ['nginx:1.25',
    'harbor.internal.example.com/library/nginx:1.25@sha256:255dbad6bec90d61b98dd540045bee5777ecaae4c7434e25ef70429774aa4368', '1']);
  check('looked-up reason', pinned[3], 'default (harbor.internal.example.com/library/nginx:1.25 found)');
  const missing = await row('busybox');
  check('image left as written', missing.slice(0, 2), ['busybox', 'left as written']);
  check('why', missing[3].startsWith('default (harbor.internal.example.com/library/busybox missing ('), true);
  check('lacking platform', missing[3].endsWith('harbor-dr.internal.example.com/library/busybox lacks platform linux/arm64 (it serves linux/amd64))'), true);
  await page.fill('#platforms', 'linux');
  check('bad platform named', await page.textContent('#lookups-status'), 'not a platform (os/arch or os/arch/variant): linux');
  await page.fill('#platforms', '');
  await page.fill('#lookups', '[{"image": 7}]');
  check('bad answers named', (await page.textContent('#lookups-status')).startsWith('the recorded answers are not'), true);
  await page.fill('#lookups', '');
  await page.selectOption('#digest', 'keep');

  // 5. The e2e requests pasted as objects give the policy's answers.
  const cases = JSON.parse(readFileSync(join(repo, 'tests/cases/admission.json'), 'utf8'));
  let checked = 0;
  for (const c of cases) {
    // A request or settings given as a file name is a file under tests/cases/ (else inline).
    const read = (given) => (typeof given === 'string'
      ? JSON.parse(readFileSync(join(repo, 'tests/cases', given), 'utf8')) : given);
    const review = typeof c.request === 'string' ? read(c.request)
      : { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: c.request };
    const settings = read(c.settings);
    const request = review.request ?? review;
    // The cases whose answer comes from the decisions of their images (testkit's tool_case).
    if (!['CREATE', 'UPDATE'].includes(request.operation) || request.subResource || !request.object
      || settings.checkTargetExists || c.invalid_settings || (settings.mode ?? 'mutate') !== 'mutate'
      || /metadata|imagePullSecrets/.test(c.message ?? '')) continue;
    await page.fill('#map', settings.imageChange);
    await page.selectOption('#digest', settings.digest ?? 'keep');
    await page.fill('#kinds', settings.customResources ? JSON.stringify(settings.customResources, null, 2) : '');
    await page.fill('#images', JSON.stringify(review, null, 2));
    check(`${c.name}: customResources problems`, await page.$$eval('#kind-errors li', (lis) => lis.length), 0);
    const status = await page.textContent('#input-status');
    if (!c.allowed && / is not (a string|a list|an object)$/.test(c.message)) {
      // The page names the problem of an object the policy cannot read, in the policy's words.
      check(`${c.name}: input`, status, c.message);
      checked += 1;
      continue;
    }
    if (status.startsWith('the policy reads no images from an object of kind')) {
      // The policy accepts such objects unchanged.
      if (!c.allowed || Object.keys(c.changes ?? {}).length > 0) failures.push(`${c.name}: the page reads no images`);
      checked += 1;
      continue;
    }
    const shown = await rows();
    const pointer = (field) => `/${field.replace(/\[/g, '.').replace(/\]/g, '').split('.').join('/')}`;
    const changed = Object.keys(c.changes ?? {}).filter((p) => /\/image(\/reference)?$/.test(p));
    for (const p of changed) {
      if (!shown.some((r) => pointer(r.field) === p)) failures.push(`${c.name}: ${p} is not shown`);
    }
    if (!c.allowed) {
      const error = shown.find((r) => r.error)?.error;
      if (!error || !c.message.includes(error)) failures.push(`${c.name}: shown error ${error} not in ${c.message}`);
    } else {
      for (const r of shown) {
        const expected = c.changes?.[pointer(r.field)] ?? 'left as written';
        check(`${c.name}: ${r.field}`, r.cells[1], expected);
      }
    }
    checked += 1;
  }
  if (checked < 15) failures.push(`only ${checked} e2e cases checked`);

  if (screenshot) {
    await page.selectOption('#example', { label: 'Apply a Global Swap with an Exception' });
    await page.fill('#images', readFileSync(join(repo, 'playground/web/sample-pod.yml'), 'utf8'));
    await page.screenshot({ path: screenshot, fullPage: true });
  }
  console.log(`browser test: ${checked} e2e cases and the typed map, examples and errors checked in ${browser.version()}`);
} finally {
  await browser.close();
  server.close();
}
if (failures.length > 0) {
  console.error(`browser test: ${failures.length} failure(s):\n${failures.join('\n')}`);
  process.exit(1);
}
