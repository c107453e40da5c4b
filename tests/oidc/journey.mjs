// A person signs in to advice-log with their organisation's account and signs
// out again, in headless Chromium: advice-log's sign-in page, its "Sign in
// with your organisation's account" button, the test provider's login and
// consent pages (login.mjs), back to advice-log's home page ("what needs me
// now") with their name in the header; then "Sign out", the provider's
// sign-out page (RP-initiated logout), and back to advice-log signed out.
//
// Then an account advice-log does not know (UNKNOWN) signs in at the
// provider and gets advice-log's refusal page. Every advice-log page on the
// way (sign-in, home, signed out, refusal) is checked with axe-core (WCAG
// 2.2 AA) and screenshotted into SHOTS, as the browser journeys are.
//
// Usage: node journey.mjs BASE LOGIN UNKNOWN SHOTS
//   prints {"home": URL, "header": TEXT, "heading": TEXT,
//           "after_sign_out": URL, "signed_out_header": TEXT,
//           "refusal_heading": TEXT, "refusal": TEXT,
//           "visited": [PATH], "violations": [...]}
// Requests anywhere but 127.0.0.1 and localhost are refused.
import { signInAtProvider, signOutAtProvider } from './login.mjs';
import { Journey, launch } from '../browser/lib.mjs';

const [base, login, unknown, shots] = process.argv.slice(2);
if (!base || !login || !unknown || !shots) {
  console.error('usage: node journey.mjs BASE LOGIN UNKNOWN SHOTS');
  process.exit(2);
}
const browser = await launch();
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const j = new Journey({ page, base, people: [], shots, name: 'sign in with the organisation' });
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.route('**/*', (route) => {
    const { hostname } = new URL(route.request().url());
    if (hostname === '127.0.0.1' || hostname === 'localhost') return route.continue();
    return route.abort('blockedbyclient');
  });
  const header = () => page.locator('.nhsuk-header__account').innerText().catch(() => '');

  await j.goto('/sign-in', 'sign-in');
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'domcontentloaded' }),
    page.click('#sign-in-provider'),
  ]);
  await signInAtProvider(page, login);
  await page.waitForURL(`${base}/`, { timeout: 15000 });
  const home = page.url();
  const signedIn = await header();
  const heading = await page.locator('h1').first().innerText();
  await j.check('home, signed in with the organisation');

  await Promise.all([
    page.waitForNavigation({ waitUntil: 'domcontentloaded' }),
    page.click('.nhsuk-header__account-button'),
  ]);
  await signOutAtProvider(page);
  await page.waitForURL((url) => url.href.startsWith(base), { timeout: 15000 });
  const afterSignOut = page.url();
  const signedOut = await header();
  await j.check('signed out');

  // Someone advice-log does not know.
  await j.goto('/sign-in', 'sign-in again');
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'domcontentloaded' }),
    page.click('#sign-in-provider'),
  ]);
  await signInAtProvider(page, unknown);
  await page.waitForURL((url) => url.href.startsWith(`${base}/auth/callback`), { timeout: 15000 });
  const refusalHeading = await page.locator('h1').first().innerText();
  const refusal = await page.locator('main').innerText();
  await j.check('refused, unknown account');
  if (problems.length) throw new Error(problems.join('\n'));
  console.log(JSON.stringify({
    home,
    header: signedIn,
    heading,
    after_sign_out: afterSignOut,
    signed_out_header: signedOut,
    refusal_heading: refusalHeading,
    refusal,
    visited: j.visited,
    violations: j.violations,
  }));
} finally {
  await browser.close();
}
