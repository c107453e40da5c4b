// An auditor filters the register, downloads it as CSV, opens a decision's
// audit page and takes its bundle away.
import { readFileSync } from 'node:fs';

export const name = 'an auditor filters the register, downloads the CSV and opens a decision\'s audit page';

export async function run(j) {
  const page = j.page;
  await j.signIn('Quinn Harper');
  await j.check('auditor home');
  await j.press(page.getByRole('link', { name: 'Register' }));
  await j.check('register');
  const all = await page.locator('tbody tr').count();
  j.expect(all >= 3, `the register lists every decision (${all})`);

  await page.getByLabel('Team').focus();
  await page.getByLabel('Team').selectOption({ label: 'North Station Ambulance Team' });
  await j.press(page.getByRole('button', { name: 'Apply filters' }));
  await j.check('register filtered by team');
  const owners = await page.locator('tbody tr td:nth-child(3)').allInnerTexts();
  j.expect(owners.length > 0 && owners.every((o) => o.includes('North Station Ambulance Team')),
    `only the team's decisions are listed: ${owners}`);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    j.press(page.getByRole('link', { name: 'Download these decisions as CSV' })),
  ]);
  const csv = readFileSync(await download.path(), 'utf8');
  const lines = csv.trim().split('\n');
  j.expect(lines[0].startsWith('title,owner,rule,proposer,decider,raised_at,decided_at,outcome,ADVICE_SOUGHT'),
    `the CSV has the register's columns: ${lines[0]}`);
  j.expect(lines.length === owners.length + 1, `one CSV row per decision shown (${lines.length - 1} vs ${owners.length})`);
  j.expect(lines.slice(1).every((l) => l.includes('North Station Ambulance Team')), 'the CSV keeps the filter');

  await j.press(page.locator('tbody tr').first().getByRole('link', { name: /^Audit/ }));
  await j.check('a decision\'s audit page');
  const audit = await page.locator('main').innerText();
  j.expect(audit.includes('The checks') && audit.includes('The record, event by event'), 'the audit page shows checks and record');
  j.expect(audit.includes('Proven every event is in the signed checkpoint'), `every event of the decision is proven in the signed log: ${audit}`);
  const [bundle] = await Promise.all([
    page.waitForEvent('download'),
    j.press(page.getByRole('button', { name: 'Download this decision\'s bundle' })),
  ]);
  j.expect((await bundle.suggestedFilename()).endsWith('.tar'), 'the bundle downloads as a tar file');

  await j.press(page.getByRole('link', { name: 'Audit', exact: true }).first());
  await j.check('audit');
  const summary = await page.locator('main').innerText();
  j.expect(summary.includes('The latest signed checkpoint'), 'the audit page shows the latest checkpoint');
}
