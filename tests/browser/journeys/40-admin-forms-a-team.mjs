// An admin registers a paramedic, issues her sign-in token (shown once),
// forms a team, adds her to it as a member, and opens the team's page;
// a form sent with a field missing shows its error beside the field. By
// keyboard alone.
export const name = 'an admin forms a team and adds a member';

/** Chooses an option of a select by typing its label, as a keyboard user does. */
async function pick(j, select, label) {
  await select.focus();
  await j.page.keyboard.type(label);
  const chosen = await select.evaluate((s) => s.options[s.selectedIndex].text);
  j.expect(chosen.startsWith(label), `chose ${label}, got ${chosen}`);
}

export async function run(j) {
  const page = j.page;
  await j.signIn('Ada Okafor');
  await j.press(page.getByRole('link', { name: 'Admin' }));
  await j.check('admin');
  j.expect(await page.getByRole('heading', { level: 1, name: 'Admin' }).isVisible(), 'the admin page');

  // A refused form: the error is beside its field, and the page says so first.
  await j.press(page.getByRole('button', { name: 'Form the team' }));
  await j.check('team name missing');
  const summary = await page.locator('.nhsuk-error-summary').innerText();
  j.expect(summary.includes("Enter the team's name."), `the error summary names the problem: ${summary}`);
  j.expect((await page.title()).startsWith('Error:'), 'the title says there is an error');

  await j.type(page.getByLabel('Full name'), 'Kemi Ade');
  await j.type(page.getByLabel('E-mail address'), 'kemi.ade@example.nhs.uk');
  await j.press(page.getByRole('button', { name: 'Register the person' }));
  await j.check('person registered');
  j.expect((await page.locator('main').innerText()).includes('The person is registered.'), 'confirmed');

  await pick(j, page.getByLabel('For', { exact: true }), 'Kemi Ade');
  await j.press(page.getByRole('button', { name: 'Issue a token' }));
  await j.check('token issued');
  const token = await page.getByLabel('The token').inputValue();
  j.expect(token.startsWith('al_'), 'the token is shown');
  j.expect((await page.locator('main').innerText()).includes('it is shown only this once'), 'with a warning');
  j.expect(!page.url().includes(token), 'the token is not in the address');
  await j.press(page.getByRole('link', { name: 'Back to admin' }));
  await j.check('admin after the token');
  j.expect(!(await page.content()).includes(token), 'the token is not shown again');

  await j.type(page.getByLabel('Team name'), 'Community Paramedics');
  await j.press(page.getByRole('button', { name: 'Form the team' }));
  await j.check('team formed');
  j.expect((await page.locator('main').innerText()).includes('The team is formed.'), 'confirmed');

  await pick(j, page.getByLabel('Team', { exact: true }), 'Community Paramedics');
  await pick(j, page.getByLabel('Person', { exact: true }), 'Kemi Ade');
  j.expect(await page.getByLabel('Member: proposes, votes and decides').isChecked(), 'member is the default role');
  await j.press(page.getByRole('button', { name: 'Add to the team' }));
  await j.check('member added');
  const row = await page.getByRole('table', { name: /Every team/ }).getByRole('row', { name: /Community Paramedics/ }).innerText();
  j.expect(row.includes('Kemi Ade'), `the teams table lists her: ${row}`);

  await j.press(page.getByRole('link', { name: 'Community Paramedics' }));
  await j.check('the new team');
  const body = await page.locator('main').innerText();
  j.expect(body.includes('Kemi Ade') && body.includes('member'), 'the team page lists her as a member');
  j.expect(!/[0-9a-f]{8}-[0-9a-f]{4}-/.test(body), 'no ids are shown');
}
