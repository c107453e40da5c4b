// A nurse in the crisis team objects to a consent proposal; its proposer
// amends it to meet the objection; the objector confirms the amendment
// integrates it. Each from what needs them now; keyboard only.
export const name = 'a member objects, the proposer amends and the objector confirms';

const TITLE = 'Two-person visits after 20:00';

async function openFromHome(j, list) {
  await j.goto('/', 'what needs me now');
  const section = j.page.locator('main').locator(`h2:has-text("${list}") + ul`);
  await j.go(section.getByRole('link', { name: TITLE }), /\/proposals\/[0-9a-f-]+$/);
  await j.check('the proposal');
}

/** Presses a link or button and waits until the page it leads to (`url`) has loaded. */
export async function run(j) {
  await j.signIn('Ruth King');
  await openFromHome(j, 'Votes to cast');
  await j.type(j.page.getByLabel('The harm you see'), 'Diverting the phone line at night leaves callers we know waiting on the hub queue.');
  await j.go(j.page.getByRole('button', { name: 'Object', exact: true }), /done=objection/);
  await j.check('objected');
  let main = await j.page.locator('main').innerText();
  j.expect(main.includes('Your objection is recorded.'), 'the objection is confirmed');
  await j.signOut();

  await j.signIn('Maya Brown');
  await openFromHome(j, 'Decisions to record');
  main = await j.page.locator('main').innerText();
  j.expect(main.includes('Adopting it now would be refused'), 'deciding waits while an objection is open');
  const body = j.page.getByLabel('The new text');
  await body.focus();
  await j.page.keyboard.press('End');
  await j.page.keyboard.press('Control+End');
  await j.page.keyboard.insertText(' Callers on the crisis plan list are rung back within 15 minutes.');
  await j.type(j.page.getByLabel('Why you amend it'), "Meets Ruth's objection about known callers.");
  await j.go(j.page.getByRole('button', { name: 'Amend', exact: true }), /done=amended/);
  await j.check('amended');
  main = await j.page.locator('main').innerText();
  j.expect(main.includes('The proposal is amended.'), 'the amendment is confirmed');
  j.expect(main.includes('Version 3: what changed'), 'the earlier versions stay, with what changed');
  await j.signOut();

  await j.signIn('Ruth King');
  await openFromHome(j, 'Objections to confirm or withdraw');
  await j.type(j.page.getByLabel('A note on how it stands'), 'The call-back promise covers it.');
  await j.go(j.page.getByRole('button', { name: 'Confirm the amendment meets it' }), /done=resolved/);
  await j.check('confirmed');
  main = await j.page.locator('main').innerText();
  j.expect(main.includes('The objection is resolved.'), 'the resolution is confirmed');
  j.expect(/Integrated by Ruth King: The call-back promise covers it\./.test(main), `resolved, by name: ${main}`);
}
