// A representative of a member team opens the Staff Training Group from
// what needs her and reads its member teams, mandate, budget and ledger
// (each entry in pounds with what remained after it). She raises a spend
// from the group's budget; a member of each member team gives advice from
// what needs them; she records the decision, and the ledger shows the
// spend committed and what remains. Keyboard only.
export const name = "a representative spends from the group budget and sees the ledger";

const TITLE = 'Moving and handling trainer for a day';

/** Chooses an option of a select by typing its label, as a keyboard user does. */
async function pick(j, select, label) {
  await select.focus();
  await j.page.keyboard.type(label);
  const chosen = await select.evaluate((s) => s.options[s.selectedIndex].text);
  j.expect(chosen.startsWith(label), `chose ${label}, got ${chosen}`);
}

/** Opens the Staff Training Group from what needs me now. */
async function openGroup(j, label) {
  await j.go(j.page.locator('main').getByRole('link', { name: 'Staff Training Group' }).first(), /\/groups\//);
  await j.check(label);
}

/** The ledger's rows, as text. */
async function ledgerRows(j) {
  return j.page.locator('main').getByRole('table', { name: /Budget ledger/ }).getByRole('row').allInnerTexts();
}

/** What the budget says remains. */
async function remaining(j) {
  const text = await j.page.locator('main').locator('.nhsuk-summary-list').innerText();
  const found = /Remaining\s+(£[0-9,]+\.[0-9]{2})/.exec(text);
  j.expect(found, `what remains is shown in pounds: ${text}`);
  return found[1];
}

export async function run(j) {
  const page = j.page;
  const main = page.locator('main');
  await j.signIn('Noor Ahmed');
  await openGroup(j, 'the group');
  j.expect((await main.innerText()).includes('You are a representative in this group.'), 'she is told she represents');
  const teams = await main.getByRole('table', { name: /Member teams/ }).innerText();
  j.expect(teams.includes('Riverside Community Nursing') && teams.includes('Noor Ahmed'), `representatives by team: ${teams}`);
  const mandate = await main.locator('#mandate + p + ul').innerText();
  j.expect(mandate.includes('training equipment'), `the mandate: ${mandate}`);
  const rows = await ledgerRows(j);
  j.expect(rows.some((r) => r.includes('Allocation') && /\+£[0-9,]+\.[0-9]{2}/.test(r)), 'an allocation in pounds');
  j.expect(rows.some((r) => r.includes('Commitment') && /-£[0-9,]+\.[0-9]{2}/.test(r)), 'a commitment in pounds');
  const decision = main.getByRole('table', { name: /Budget ledger/ }).getByRole('link').first();
  j.expect((await decision.getAttribute('href')).startsWith('/proposals/'), 'the ledger links to the decision');
  j.expect((await decision.innerText()).includes('First-aid refresher'), 'by its title');
  j.expect(!/[0-9a-f]{8}-[0-9a-f]{4}-/.test(await main.innerText()), 'no ids are shown');
  const before = await remaining(j);

  // She raises a spend of £250 from the group's budget.
  await j.go(main.getByRole('button', { name: 'Raise a proposal' }), /\/proposals\/new\?owner=group:/);
  await j.check('raise for the group');
  await j.type(page.getByLabel('Title'), TITLE);
  await j.type(page.getByLabel('The proposal', { exact: true }), 'Book a moving and handling trainer for one day in February, open to every member team.');
  await j.choose(page.getByLabel(/^Advice:/));
  await pick(j, page.getByLabel('Decision area'), 'training equipment');
  await j.type(page.getByLabel(/Spend from the group's budget/), '250');
  await j.go(page.getByRole('button', { name: 'Raise the proposal' }), /done=raised/);
  await j.check('raised');
  const proposal = page.url().split('?')[0];
  await j.signOut();

  // Each member team is asked; a member of each answers from what needs them.
  for (const adviser of ['Sam Patel', 'Maya Brown', 'Ivy Chen']) {
    await j.signIn(adviser);
    const asked = main.locator('h2:has-text("Advice to give") + ul');
    await j.go(asked.getByRole('link', { name: TITLE }), /\/proposals\/[0-9a-f-]+$/);
    await j.check(`asked ${adviser}`);
    await j.choose(page.getByLabel('Support: I am for it'));
    await j.type(page.getByLabel('Your advice'), 'Yes: our team will send two people.');
    await j.go(page.getByRole('button', { name: 'Give advice' }), /done=advice/);
    await j.check(`advised ${adviser}`);
    await j.signOut();
  }

  // She records the decision: the spend is committed in the same step.
  await j.signIn('Noor Ahmed');
  await j.goto(proposal.replace(j.base, ''), 'the spend, advised');
  await j.choose(page.getByLabel('Adopt it'));
  await j.type(page.getByLabel('Why you decide this way'), 'Every member team supports it and it is within the training budget.');
  await j.go(page.getByRole('button', { name: 'Record the decision' }), /done=decided/);
  await j.check('decided');
  j.expect((await main.innerText()).includes('The decision is recorded.'), 'the decision is confirmed');

  await j.goto('/', 'what needs me now, after');
  await openGroup(j, 'the group after the spend');
  const after = await ledgerRows(j);
  const spend = after.find((r) => r.includes(TITLE));
  j.expect(spend && spend.includes('Commitment') && spend.includes('-£250.00'), `the ledger shows the spend: ${after.join(' | ')}`);
  const toPence = (pounds) => Math.round(Number(pounds.replace(/[£,]/g, '')) * 100);
  const now = await remaining(j);
  j.expect(toPence(before) - toPence(now) === 25000, `£250 less remains: ${before} then ${now}`);
  j.expect(spend.includes(now), `the entry shows what remained after it: ${spend}`);
  const decided = await main.getByRole('table', { name: /Decisions of/ }).innerText();
  j.expect(decided.includes(TITLE) && decided.includes('Adopted'), `the decision is listed: ${decided}`);
}
