// Browser test: starts `salus demo` on a free port in a fresh data folder, signs in
// through the real login page in Debian's Chromium (driven by playwright-core; never
// `playwright install`), and checks the home page, keyboard access, the Content Security
// Policy (no violations), the price list and staff pages, sign-out, and the front desk's
// search-while-typing, chart, booking, day board and waiting-room screen.
//
//   node web/e2e/login.mjs path/to/salus
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import readline from 'node:readline';
import assert from 'node:assert/strict';

const bin = process.argv[2];
assert.ok(bin, 'usage: node login.mjs path/to/salus');
const shots = process.env.E2E_SCREENSHOTS || 'target/e2e';
const dataDir = mkdtempSync(join(tmpdir(), 'salus-e2e-'));

const server = spawn(bin, ['demo', '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'ignore'] });
const users = {};
const address = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('salus demo did not start within 60 s')), 60_000);
  server.on('exit', (code) => reject(new Error(`salus demo exited with ${code}`)));
  readline.createInterface({ input: server.stdout }).on('line', (line) => {
    const user = line.trim().split(/\s+/);
    if (user.length === 3) users[user[0]] = { username: user[1], password: user[2] };
    const m = line.match(/running at (http:\/\/\S+)/);
    if (m) { clearTimeout(timer); resolve(m[1]); }
  });
});

let browser;
try {
  assert.ok(users.admin, 'the demo printed an admin password');
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
  const problems = [];
  // Console errors, but not the 401 the wrong password below answers with on purpose.
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().includes('(Unauthorized)')) problems.push(m.text()); });
  page.on('response', (r) => { if (r.status() === 404) problems.push(`404 for ${r.url()}`); });
  page.on('pageerror', (e) => problems.push(e.message));

  // Signed out, the home page sends us to the login page.
  await page.goto(address + '/');
  assert.match(page.url(), /\/login\?next=%2F$/);

  // A wrong password: an error beside the form, still on the login page.
  await page.getByLabel('Username').fill(users.admin.username);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Invalid username or password.').waitFor();

  // The username field has the focus; Tab goes on to the password. From the top of the
  // page, the keyboard reaches the skip link first.
  assert.equal(await page.evaluate(() => document.activeElement.id), 'username');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'password');
  const first = await page.evaluate(() => document.querySelector('a[href], button, input:not([type=hidden])').textContent.trim());
  assert.equal(first, 'Skip to main content');

  // The right password, typed and submitted with Enter.
  await page.getByLabel('Username').fill(users.admin.username);
  await page.getByLabel('Password').fill(users.admin.password);
  await page.getByLabel('Password').press('Enter');
  await page.waitForURL(address + '/');
  await page.getByRole('heading', { name: 'Welcome, Asha Menon' }).waitFor();
  await page.getByRole('main').getByRole('link', { name: 'Users', exact: true }).waitFor();
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, 'home-admin.png'), fullPage: true });

  // The admin opens user administration; htmx and the styles loaded from the binary.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  await page.getByRole('heading', { name: 'Users', exact: true }).waitFor();
  assert.equal(await page.evaluate(() => typeof window.htmx), 'object', 'htmx loaded from /assets');
  await page.screenshot({ path: join(shots, 'users.png'), fullPage: true });

  // The organisation: the demo's price list in rupees, and the doctor's profile.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Price list' }).click();
  await page.getByRole('heading', { name: 'Price list' }).waitFor();
  await page.getByRole('row', { name: /CONS-CARD.*Consultation, cardiology.*900\.00/ }).waitFor();
  await page.screenshot({ path: join(shots, 'price-list.png'), fullPage: true });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Staff' }).click();
  await page.getByRole('row', { name: /Dr Priya Rao.*TNMC-84512.*500\.00 INR/ }).waitFor();
  await page.screenshot({ path: join(shots, 'staff.png'), fullPage: true });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();

  // Down to a tablet: the page reflows without sideways scrolling.
  await page.setViewportSize({ width: 768, height: 1024 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal scroll at 768 px');
  await page.screenshot({ path: join(shots, 'users-tablet.png'), fullPage: true });

  // Sign out: back to the login page with a message.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You have signed out.').waitFor();

  // The front desk finds a patient while typing, misspelt, and opens the chart.
  await page.setViewportSize({ width: 1024, height: 768 });
  await page.getByLabel('Username').fill(users.receptionist.username);
  await page.getByLabel('Password').fill(users.receptionist.password);
  await page.getByLabel('Password').press('Enter');
  await page.waitForURL(address + '/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Patients' }).click();
  await page.getByLabel(/Name, MRN, phone/).pressSequentially('fatma begum', { delay: 30 });
  await page.locator('#results').getByRole('link', { name: 'Fathima Begum' }).waitFor();
  await page.screenshot({ path: join(shots, 'patient-search.png'), fullPage: true });
  await page.locator('#results').getByRole('link', { name: 'Fatima Begum' }).click();
  await page.getByRole('heading', { name: 'Fatima Begum' }).waitFor();
  await page.getByText(/Registered as SAL/).waitFor();
  await page.screenshot({ path: join(shots, 'chart.png'), fullPage: true });

  // Book her an appointment with Dr Rao two or three days ahead (not a Sunday).
  await page.getByRole('button', { name: 'Book appointment' }).click();
  await page.getByRole('heading', { name: /Book an appointment/ }).waitFor();
  const day = new Date(Date.now() + 2 * 86400000);
  if (day.getUTCDay() === 0) day.setUTCDate(day.getUTCDate() + 1);
  await page.getByLabel('Doctor', { exact: true }).selectOption({ label: 'Dr Priya Rao' });
  await page.getByLabel('Day').fill(day.toISOString().slice(0, 10));
  await page.getByLabel('Reason for the visit').fill('Knee pain');
  await page.getByRole('button', { name: 'Show free slots' }).click();
  const slot = page.getByRole('button', { name: /^Book \d\d:\d\d with Dr Priya Rao$/ }).first();
  await slot.waitFor();
  await page.screenshot({ path: join(shots, 'book.png'), fullPage: true });
  await slot.click();
  await page.getByText(/^Booked to .* at \d\d:\d\d\.$/).waitFor();
  await page.getByText(/Appointment booked for/).first().waitFor();

  // The day board and the waiting-room screen.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Appointments' }).click();
  await page.getByRole('heading', { name: /Appointments/ }).waitFor();
  await page.screenshot({ path: join(shots, 'day-board.png'), fullPage: true });
  await page.goto(address + '/queue');
  await page.locator('#queue').waitFor();
  await page.goto(address + '/patients/new');
  await page.getByRole('heading', { name: 'Register a patient' }).waitFor();
  await page.screenshot({ path: join(shots, 'register.png'), fullPage: true });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You have signed out.').waitFor();

  assert.deepEqual(problems, [], 'no console errors (a CSP violation would be one)');
  console.log(`browser test passed against ${address}`);
} finally {
  if (browser) await browser.close();
  server.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
