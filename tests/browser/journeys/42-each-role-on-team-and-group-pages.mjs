// Team and group pages seen as each role: a coach on her team's page (no
// raising), a member of another team, and an auditor, who reads every team
// and group but is told in plain words that the admin page is not theirs.
export const name = 'team and group pages read by a coach, a member and an auditor';

export async function run(j) {
  const page = j.page;
  const main = page.locator('main');

  await j.signIn('Grace Hill');
  await j.press(main.getByRole('link', { name: 'North Station Ambulance Team' }).first());
  await j.check('team as its coach');
  let body = await main.innerText();
  j.expect(body.includes('You are a coach of this team.'), 'she is told her role');
  j.expect(!(await main.getByRole('button', { name: 'Raise a proposal' }).count()), 'a coach never proposes');
  for (const figure of ['Decisions per month', 'Median days to decide', 'Decisions with every check passed']) {
    j.expect(body.includes(figure), `the statistics show ${figure}`);
  }
  const charts = await main.locator('svg[role="img"]').count();
  j.expect(charts >= 3, `three charts or more, each an image with a text alternative: ${charts}`);
  await main.locator('summary', { hasText: 'Decisions per month: the numbers' }).focus();
  await page.keyboard.press('Enter');
  await j.check('chart numbers opened');
  await j.signOut();

  await j.signIn('Sam Patel');
  await j.press(main.getByRole('link', { name: 'North Station Ambulance Team' }).first());
  await j.check('team as a member');
  const team = page.url();
  j.expect(await main.getByRole('button', { name: 'Raise a proposal' }).isVisible(), 'a member may raise');
  await j.press(main.getByRole('link', { name: 'Staff Training Group' }).first());
  await j.check('group from a member team');
  const group = page.url();
  await j.signOut();

  await j.signIn('Quinn Harper');
  await j.goto(team.replace(j.base, ''), 'team as an auditor');
  await j.goto(group.replace(j.base, ''), 'group as an auditor');
  j.expect(!(await main.getByRole('button', { name: 'Raise a proposal' }).count()), 'an auditor never raises');
  const response = await page.goto(j.base + '/admin');
  j.expect(response.status() === 403, `the admin page is refused: ${response.status()}`);
  await j.check('admin refused');
  j.expect((await main.innerText()).includes('Only the organisation’s admins') || (await main.innerText()).includes("Only the organisation's admins"), 'in plain words');
}
