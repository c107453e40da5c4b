// A coach opens what needs her now, follows the proposal she was asked to
// advise on, and gives her advice; keyboard only.
export const name = 'a coach gives advice from what needs me now';

/** Presses a link or button and waits until the page it leads to (`url`) has loaded. */
export async function run(j) {
  await j.signIn('Grace Hill');
  await j.check('what needs me now');
  const advice = j.page.locator('main').locator('h2:has-text("Advice to give") + ul');
  await j.go(advice.getByRole('link', { name: 'Move morning handover to 07:45' }), /\/proposals\/[0-9a-f-]+$/);
  await j.check('the proposal');
  let main = await j.page.locator('main').innerText();
  j.expect(main.includes('You were asked for your advice.'), 'the page says she was asked');
  j.expect(!main.includes('Cast your vote') && !main.includes('Record the decision'), 'a coach never votes or decides');
  await j.choose(j.page.getByLabel('Concern: I am worried about something'));
  await j.type(j.page.getByLabel('Your advice'), 'Crews coming off nights hand over at 07:30; check the overlap with the ambulance station first.');
  await j.go(j.page.getByRole('button', { name: 'Give advice' }), /done=advice/);
  await j.check('advice given');
  main = await j.page.locator('main').innerText();
  j.expect(main.includes('Your advice is recorded.'), 'the advice is confirmed');
  j.expect(main.includes('check the overlap with the ambulance station first'), 'her advice is shown');
  await j.goto('/', 'what needs me now, after');
  const after = await j.page.locator('main').innerText();
  j.expect(!after.includes('Move morning handover to 07:45'), 'the request is answered and leaves her list');
}
