// Signs in at the test OpenID provider (provider.mjs) through its own login
// and consent pages, in headless Chromium (Debian's chromium, driven by
// playwright-core from tests/browser).
//
// As a script: node login.mjs AUTHORIZE_URL LOGIN STOP_PREFIX
//   opens AUTHORIZE_URL, signs in as LOGIN (an account's sub or e-mail),
//   consents, and prints {"url": "..."} for the first request whose URL starts
//   with STOP_PREFIX (the relying party's redirect URI; nothing need listen
//   there).
//   Requests anywhere but 127.0.0.1 and localhost are refused, so the pages'
//   web-font import never leaves the machine. Page errors fail the run.
//
// As a module: `signInAtProvider(page, login)` does the sign-in and consent
// on a page that is showing the provider's login page, for a browser journey
// that starts at the relying party; `signOutAtProvider(page)` confirms the
// provider's RP-initiated logout page.
import { pathToFileURL } from 'node:url';

/** Fills the provider's login page as `login` (any password), then consents
 * when the consent page comes; returns when the page has left the provider's
 * interaction pages. */
export async function signInAtProvider(page, login) {
  await page.waitForSelector('input[name="prompt"][value="login"]', { state: 'attached', timeout: 15000 });
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any password');
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'domcontentloaded' }),
    page.click('button[type="submit"]'),
  ]);
  // Next comes the consent page, or the login page again for an unknown
  // login, or (consent given before) the relying party.
  if (await page.locator('input[name="prompt"][value="login"]').count() > 0) {
    throw new Error(`the provider did not sign in ${JSON.stringify(login)} (no such account)`);
  }
  if (await page.locator('input[name="prompt"][value="consent"]').count() > 0) {
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'domcontentloaded' }),
      page.click('button[type="submit"]'),
    ]);
  }
}

/** On the provider's sign-out page (its end_session_endpoint, opened by the
 * relying party's RP-initiated logout), answers "Yes, sign me out"; the
 * provider then ends its session and sends the browser to the relying
 * party's post_logout_redirect_uri. */
export async function signOutAtProvider(page) {
  await page.waitForSelector('button[name="logout"][value="yes"]', { timeout: 15000 });
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'domcontentloaded' }),
    page.click('button[name="logout"][value="yes"]'),
  ]);
}

async function main() {
  const [authorizeUrl, login, stopPrefix] = process.argv.slice(2);
  if (!authorizeUrl || !login || !stopPrefix) {
    console.error('usage: node login.mjs AUTHORIZE_URL LOGIN STOP_PREFIX');
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
    page.on('console', (message) => {
      // (Loads refused above are no page problem.)
      // Nor is what a relying party listening at STOP_PREFIX answers (a
      // redirect's hops are not routed, so the browser does load it, without
      // the relying party's session cookie: it redeems nothing).
      const at = message.location()?.url ?? '';
      if (message.type() === 'error' && !message.text().includes('ERR_BLOCKED_BY_CLIENT')
          && !at.startsWith(stopPrefix)) {
        problems.push(`console error: ${message.text()}`);
      }
    });
    // The provider answers the sign-in with a redirect to the relying party,
    // which may not be listening: the request is noted, and its failure is
    // no failure of the sign-in.
    let stop;
    page.on('request', (request) => {
      if (stop === undefined && request.url().startsWith(stopPrefix)) stop = request.url();
    });
    await page.route('**/*', (route) => {
      const { hostname } = new URL(route.request().url());
      if (hostname === '127.0.0.1' || hostname === 'localhost') return route.continue();
      return route.abort('blockedbyclient');
    });
    await page.goto(authorizeUrl);
    try {
      await signInAtProvider(page, login);
    } catch (error) {
      if (stop === undefined) {
        const text = await page.locator('body').innerText().catch(() => '');
        throw new Error(`${error.message}\nat ${page.url()}:\n${text}`);
      }
    }
    if (stop === undefined) {
      const text = await page.locator('body').innerText().catch(() => '');
      throw new Error(`no redirect to ${stopPrefix}; at ${page.url()}:\n${text}`);
    }
    const url = stop;
    if (problems.length) throw new Error(problems.join('\n'));
    console.log(JSON.stringify({ url }));
  } finally {
    await browser.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
