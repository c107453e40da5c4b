// What every browser journey shares: Debian's Chromium through
// playwright-core, axe-core on every page visited, a screenshot of each,
// and keyboard-only ways to act.
//
// A journey is a file in journeys/ that exports `name` (words) and
// `async function run(j)`, where `j` is a Journey:
//   j.page            the Playwright page (a fresh browser context per journey)
//   j.base            the server's URL
//   j.person(name)    a demo person { name, role, team, token }
//   await j.signIn(name)          signs in through the pages, by keyboard
//   await j.goto(path)            opens a page and checks it
//   await j.check(label)          screenshot + axe on the page as it is now
//   await j.press(locator)        focuses and presses Enter (links, buttons)
//   await j.go(locator, url)      presses and waits for the page at url (a RegExp)
//   await j.type(locator, text)   focuses and types (fields)
//   await j.choose(locator)       focuses and presses Space (radios, checkboxes)
//   j.expect(condition, message)  fails the journey with the message
// Every page a journey shows must be checked (goto does; after a form
// posts, call check). tests/it/journeys.rs runs every journey on both
// backends; to run them by hand against a server loaded with the demo:
//   node tests/browser/journeys.mjs http://127.0.0.1:8080 people.json target/journeys [journey-file ...]
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The WCAG rule sets axe checks: 2.0, 2.1 and 2.2, levels A and AA. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export class Journey {
  constructor({ page, base, people, shots, name }) {
    this.page = page;
    this.base = base;
    this.people = people;
    this.shots = shots;
    this.name = name;
    this.step = 0;
    this.visited = [];
    this.violations = [];
    mkdirSync(shots, { recursive: true });
  }

  person(name) {
    const found = this.people.find((p) => p.name === name);
    if (!found) throw new Error(`no demo person called ${name}`);
    return found;
  }

  expect(condition, message) {
    if (!condition) throw new Error(message);
  }

  async goto(path, label) {
    const response = await this.page.goto(this.base + path);
    this.expect(response && response.status() < 400, `${path} answered ${response && response.status()}`);
    await this.check(label || path);
  }

  async check(label) {
    this.step += 1;
    const safe = String(label).replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').slice(0, 60) || 'page';
    const file = join(this.shots, `${String(this.step).padStart(2, '0')}-${safe}.png`);
    await this.page.screenshot({ path: file, fullPage: true });
    const results = await new AxeBuilder({ page: this.page }).withTags(WCAG_TAGS).analyze();
    const url = this.page.url().replace(this.base, '');
    this.visited.push(url);
    for (const v of results.violations) {
      this.violations.push({
        page: url, rule: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
      });
    }
  }

  async press(locator) {
    await locator.focus();
    // A link or a form's button navigates; a download link does not. Wait
    // for the navigation if one starts, then for its page to load.
    const navigated = this.page.waitForEvent('framenavigated', { timeout: 2000 }).catch(() => null);
    await this.page.keyboard.press('Enter');
    await navigated;
    await this.page.waitForLoadState('load');
  }

  async go(locator, url) {
    await Promise.all([this.page.waitForURL(url), this.press(locator)]);
  }

  async type(locator, text) {
    await locator.focus();
    await this.page.keyboard.insertText(text);
  }

  async choose(locator) {
    await locator.focus();
    await this.page.keyboard.press('Space');
  }

  async signIn(name) {
    const { token } = this.person(name);
    await this.goto('/', 'home signed out');
    await this.press(this.page.locator('main').getByRole('button', { name: 'Sign in' }));
    await this.check('sign in');
    await this.type(this.page.getByLabel('Sign-in token'), token);
    await this.press(this.page.getByRole('button', { name: 'Sign in' }));
    await this.page.waitForURL((url) => !url.pathname.startsWith('/sign-in'));
    const header = await this.page.locator('.nhsuk-header__account').innerText();
    this.expect(header.includes(name), `after signing in the header names ${name}: ${header}`);
  }

  async signOut() {
    await this.press(this.page.getByRole('button', { name: 'Sign out' }));
    await this.page.waitForURL((url) => url.pathname === '/');
  }
}
