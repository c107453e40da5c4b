// A representative of a member team opens the Staff Training Group from
// what needs her, and reads its member teams, mandate, budget and ledger
// (each entry in pounds with what remained after it).
export const name = "a representative sees the group's budget ledger";

export async function run(j) {
  const page = j.page;
  await j.signIn('Noor Ahmed');
  await j.press(page.locator('main').getByRole('link', { name: 'Staff Training Group' }).first());
  await j.check('the group');
  const main = page.locator('main');
  j.expect((await main.innerText()).includes('You are a representative in this group.'), 'she is told she represents');
  j.expect(await main.getByRole('button', { name: 'Raise a proposal' }).isVisible(), 'she may raise a proposal for the group');
  const teams = await main.getByRole('table', { name: /Member teams/ }).innerText();
  j.expect(teams.includes('Riverside Community Nursing') && teams.includes('Noor Ahmed'), `representatives by team: ${teams}`);
  const ledger = main.getByRole('table', { name: /Budget ledger/ });
  const rows = await ledger.getByRole('row').allInnerTexts();
  j.expect(rows.length >= 3, `the ledger has an allocation and a commitment: ${rows.join(' | ')}`);
  j.expect(rows.some((r) => r.includes('Allocation') && /\+£[0-9,]+\.[0-9]{2}/.test(r)), 'an allocation in pounds');
  j.expect(rows.some((r) => r.includes('Commitment') && /-£[0-9,]+\.[0-9]{2}/.test(r)), 'a commitment in pounds');
  const remaining = await main.locator('.nhsuk-summary-list').innerText();
  j.expect(/Remaining\s+£[0-9,]+\.[0-9]{2}/.test(remaining), `what remains: ${remaining}`);
  const body = await main.innerText();
  j.expect(!/[0-9a-f]{8}-[0-9a-f]{4}-/.test(body), 'no ids are shown');
  // The decision that committed spend is a link to its proposal, by title.
  const decision = ledger.getByRole('link').first();
  j.expect((await decision.getAttribute('href')).startsWith('/proposals/'), 'the ledger links to the decision');
  j.expect((await decision.innerText()).includes('First-aid refresher'), 'by its title');
}
