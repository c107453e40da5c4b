// A nurse chooses a daily e-mail from the header's Notifications link; an
// admin opens the webhooks page, sends the register form empty and reads
// the error beside the address, then opens the delivery log, which lists
// the e-mails the demo's notifications sent. By keyboard
// alone.
export const name = 'a nurse chooses a daily e-mail; an admin sees webhooks and deliveries';

export async function run(j) {
  const page = j.page;
  await j.signIn('Noor Ahmed');
  await j.go(page.getByRole('link', { name: 'Notifications' }), /\/preferences$/);
  await j.check('preferences');
  j.expect(await page.getByRole('heading', { level: 1, name: 'How you hear from advice-log' }).isVisible(), 'the preferences page');
  await j.choose(page.getByLabel('One e-mail a day with everything'));
  await j.go(page.getByRole('button', { name: 'Save' }), /done=daily/);
  await j.check('preference saved');
  j.expect((await page.locator('main').innerText()).includes('Saved. From now on: One e-mail a day with everything.'), 'confirmed');
  j.expect(await page.getByLabel('One e-mail a day with everything').isChecked(), 'the choice is shown');
  await j.signOut();

  await j.signIn('Ada Okafor');
  await j.press(page.getByRole('link', { name: 'Admin' }));
  await j.go(page.getByRole('link', { name: 'Webhooks', exact: true }), /\/admin\/webhooks$/);
  await j.check('webhooks');
  await j.press(page.getByRole('button', { name: 'Register the webhook' }));
  await j.check('webhook address missing');
  const summary = await page.locator('.nhsuk-error-summary').innerText();
  j.expect(summary.includes('Enter the address advice-log should call'), `the error summary names the problem: ${summary}`);
  j.expect((await page.title()).startsWith('Error:'), 'the title says there is an error');
  await j.go(page.getByRole('link', { name: 'delivery log' }), /\/admin\/deliveries$/);
  await j.check('delivery log');
  j.expect(await page.getByRole('heading', { level: 1, name: 'Delivery log' }).isVisible(), 'the delivery log');
  // The demo's notifications went out by e-mail: the log lists them.
  const log = await page.locator('main').innerText();
  j.expect(log.includes('Sent') && (await page.locator('main table').count()) > 0, `the delivery log lists what was sent: ${log.slice(0, 400)}`);
}
