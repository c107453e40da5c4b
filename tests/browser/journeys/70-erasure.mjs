// The demo's admin honours personal data requests: registers someone,
// corrects their name, erases them (a missing reason is shown first), and
// redacts the reason of an objection from a proposal's page. It runs after
// the other journeys (it erases only the person it registers, and redacts
// text no other journey reads afterwards). By keyboard alone.
export const name = 'an admin corrects a name, erases a person and redacts a text';

const TITLE = 'Two-person visits after 20:00';

/** Chooses an option of a select by typing its label, as a keyboard user does. */
async function pick(j, select, label) {
  await select.focus();
  await j.page.keyboard.type(label);
  const chosen = await select.evaluate((s) => s.options[s.selectedIndex].text);
  j.expect(chosen.startsWith(label), `chose ${label}, got ${chosen}`);
}

export async function run(j) {
  const page = j.page;
  const main = async () => page.locator('main').innerText();
  await j.signIn('Ada Okafor');
  await j.goto('/admin#requests', 'admin, personal data requests');
  j.expect(await page.getByRole('heading', { level: 2, name: 'Personal data requests' }).isVisible(), 'the section');

  await j.type(page.getByLabel('Full name'), 'Lee Marlowe');
  await j.type(page.getByLabel('E-mail address'), 'lee.marlowe@example.nhs.uk');
  await j.press(page.getByRole('button', { name: 'Register the person' }));
  await j.check('person registered');

  // Rectification.
  await pick(j, page.getByLabel('Whose details to correct'), 'Lee Marlowe');
  await j.type(page.getByLabel('Their name as it should read (optional)'), 'Lee Marlow-Smith');
  await j.press(page.getByRole('button', { name: 'Correct their details' }));
  await j.check('name corrected');
  j.expect((await main()).includes('The correction is recorded.'), 'the correction is confirmed');
  j.expect((await main()).includes('Lee Marlow-Smith'), 'the people list shows the corrected name');

  // Erasure: first without a reason, which is refused in plain words.
  await pick(j, page.getByLabel('Person whose data is erased'), 'Lee Marlow-Smith');
  await j.press(page.getByRole('button', { name: 'Erase their personal data' }));
  await j.check('erasure reason missing');
  const summary = await page.locator('.nhsuk-error-summary').innerText();
  j.expect(summary.includes('Enter the reason'), `the error summary names the problem: ${summary}`);
  j.expect((await page.title()).startsWith('Error:'), 'the title says there is an error');
  await j.type(page.getByLabel('Reason for erasing'), 'Erasure request ER-2026-04');
  await j.choose(page.getByLabel('Also erase what they wrote (advice, objections, notes)'));
  await j.press(page.getByRole('button', { name: 'Erase their personal data' }));
  await j.check('person erased');
  let text = await main();
  j.expect(text.includes('Done: the person now reads as "Erased person"') && text.includes('at log position'), `confirmed: ${text.slice(0, 400)}`);
  j.expect(!text.includes('Lee Marlow-Smith') && !text.includes('lee.marlowe@example.nhs.uk'), 'the name and e-mail are gone');
  const row = await page.getByRole('table', { name: /Everyone registered/ }).getByRole('row', { name: /Erased person/ }).first().innerText();
  j.expect(row.includes('Erased'), `the people list marks them: ${row}`);

  // Redaction of one text on a proposal's page.
  await j.goto('/search?q=' + encodeURIComponent('Two-person visits'), 'search');
  await j.go(page.locator('main').getByRole('link', { name: TITLE }).first(), /\/proposals\/[0-9a-f-]+$/);
  await j.check('proposal with redact links');
  const objected = page.getByRole('row', { name: /Objected/ }).getByRole('link', { name: /Redact text/ });
  const link = (await objected.count()) > 0 ? objected.first() : page.getByRole('link', { name: /Redact text/ }).first();
  await j.go(link, /\/redact\?event=/);
  await j.check('redact text');
  j.expect(await page.getByRole('heading', { level: 1, name: 'Redact text' }).isVisible(), 'the redaction page');
  const radios = page.locator('input[name="redact-field"]');
  if (!(await radios.first().isChecked())) await j.choose(radios.first());
  await j.type(page.getByLabel('Reason', { exact: true }), 'A patient was named: request R-2026-09');
  await j.go(page.getByRole('button', { name: 'Erase this text' }), /done=redacted/);
  await j.check('text redacted');
  text = await main();
  j.expect(text.includes('The text is erased.'), 'confirmed');
  j.expect(text.includes('[This text has been erased]'), 'the text reads as erased');
  j.expect(text.includes('Redacted text (the ') && text.includes('A patient was named: request R-2026-09'), 'the trail shows the redaction and why');
}
