// A nurse signs in once with the token she was given, using the keyboard
// alone, sees what needs her now, and signs out.
export const name = 'a nurse signs in with the keyboard, sees what needs her and signs out';

export async function run(j) {
  await j.signIn('Noor Ahmed');
  await j.check('what needs me now');
  const heading = await j.page.getByRole('heading', { level: 1 }).innerText();
  j.expect(heading === 'What needs you now', `the home page is her work: ${heading}`);
  const body = await j.page.locator('main').innerText();
  j.expect(body.includes('Staff Training Group'), 'her group is listed');
  j.expect(!/[0-9a-f]{8}-[0-9a-f]{4}-/.test(body), 'no ids are shown');
  await j.signOut();
  await j.check('signed out');
  const again = await j.page.locator('main').innerText();
  j.expect(again.includes('Sign in'), 'signed out, the home page offers to sign in');
}
