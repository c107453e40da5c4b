// A person signs in to advice-log with their organisation's account and signs
// out again, in headless Chromium: advice-log's sign-in page, its "Sign in
// with your organisation's account" button, the test provider's login and
// consent pages (login.mjs), back to advice-log's home page ("what needs me
// now") with their name in the header; then "Sign out", the provider's
// sign-out page (RP-initiated logout), and back to advice-log signed out.
//
// Usage: node journey.mjs BASE LOGIN
//   prints {"home": URL, "header": TEXT, "heading": TEXT,
//           "after_sign_out": URL, "signed_out_header": TEXT}
// Requests anywhere but 127.0.0.1 and localhost are refused.
import { signInAtProvider, signOutAtProvider } from './login.mjs';

const [base, login] = process.argv.slice(2);
if (!base || !login) {
  console.error('usage: node journey.mjs BASE LOGIN');
  process.exit(2);
}
const { chromium } = await import('../browser/node_modules/playwright-core/index.mjs');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.route('**/*', (route) => {
    const { hostname } = new URL(route.request().url());
    if (hostname === '127.0.0.1' || hostname === 'localhost') return route.continue();
    return route.abort('blockedbyclient');
  });
  const header = () => page.locator('.nhsuk-header__account').innerText().catch(() => '');

  await page.goto(`${base}/sign-in`);
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'domcontentloaded' }),
    page.click('#sign-in-provider'),
  ]);
  await signInAtProvider(page, login);
  await page.waitForURL(`${base}/`, { timeout: 15000 });
  const home = page.url();
  const signedIn = await header();
  const heading = await page.locator('h1').first().innerText();

  await Promise.all([
    page.waitForNavigation({ waitUntil: 'domcontentloaded' }),
    page.click('.nhsuk-header__account-button'),
  ]);
  await signOutAtProvider(page);
  await page.waitForURL((url) => url.href.startsWith(base), { timeout: 15000 });
  const afterSignOut = page.url();
  const signedOut = await header();
  if (problems.length) throw new Error(problems.join('\n'));
  console.log(JSON.stringify({
    home,
    header: signedIn,
    heading,
    after_sign_out: afterSignOut,
    signed_out_header: signedOut,
  }));
} finally {
  await browser.close();
}
