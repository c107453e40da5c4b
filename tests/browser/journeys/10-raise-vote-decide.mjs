// A paramedic raises a rota the station signs off when half the team
// agrees; two colleagues vote from what needs them; the proposer, who is
// the decider, sees the threshold met and records the decision. Keyboard
// only, from the home page each time.
export const name = 'a member raises a 50% rota, two members vote, the proposer decides';

const TITLE = 'Spring rota: earlier Saturday start';

/** Follows the link to the rota in one of the home page's lists. */
async function openFromHome(j, list) {
  await j.goto('/', 'what needs me now');
  const section = j.page.locator('main').locator(`h2:has-text("${list}") + ul`);
  await j.go(section.getByRole('link', { name: TITLE }), /\/proposals\/[0-9a-f-]+$/);
  await j.check('the rota');
}

/** Presses a link or button and waits until the page it leads to (`url`) has loaded. */
export async function run(j) {
  await j.signIn('Sam Patel');
  await j.check('what needs me now');
  await j.go(j.page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Raise a proposal' }), /\/proposals\/new$/);
  await j.check('choose the team');
  const owner = j.page.getByLabel('Which team or group is it for?');
  j.expect((await owner.inputValue()).startsWith('team:'), 'North Station is offered first');
  await j.go(j.page.getByRole('button', { name: 'Continue' }), /owner=team/);
  await j.check('raise a proposal');
  await j.type(j.page.getByLabel('Title'), TITLE);
  await j.type(j.page.getByLabel('The proposal', { exact: true }), 'Saturday day shifts start at 06:00 instead of 07:00 from April, so the first crews meet the early discharge rush.');
  await j.choose(j.page.getByLabel(/^Threshold:/));
  await j.type(j.page.getByLabel(/Share of members who must agree/), '50');
  await j.go(j.page.getByRole('button', { name: 'Raise the proposal' }), /done=raised/);
  await j.check('raised');
  let main = await j.page.locator('main').innerText();
  j.expect(main.includes('Your proposal is raised.'), 'the raise is confirmed');
  j.expect(main.includes('Threshold: 50% of the 4 eligible members must agree (2 votes)'), `the rule in words: ${main}`);
  j.expect(main.includes('Adopting it now would be refused: 0 of 4 eligible members agree; 2 must.'), 'deciding waits for the votes');

  // While Sam's page is open, Lena votes against it in another browser:
  // the page shows her vote without being reloaded.
  const elsewhere = await j.page.context().browser().newContext();
  const lena = await elsewhere.newPage();
  await lena.goto(j.base + '/sign-in');
  await lena.getByLabel('Sign-in token').fill(j.person('Lena Novak').token);
  await lena.getByRole('button', { name: 'Sign in' }).click();
  await lena.waitForURL((url) => !url.pathname.startsWith('/sign-in'));
  await lena.goto(j.page.url().split('?')[0]);
  await lena.getByLabel('I disagree').check();
  await lena.getByRole('button', { name: 'Cast your vote' }).click();
  await lena.waitForURL(/done=vote/);
  await elsewhere.close();
  await j.page.getByText('This proposal changed; the page shows it as it is now.').waitFor({ timeout: 10000 });
  await j.check('updated while open');
  main = await j.page.locator('main').innerText();
  j.expect(/Lena Novak\s+Disagrees/.test(main), `Lena's vote shows without a reload: ${main}`);
  await j.signOut();

  for (const member of ['Priya Shah', 'Tom Evans']) {
    await j.signIn(member);
    await openFromHome(j, 'Votes to cast');
    await j.choose(j.page.getByLabel('I agree'));
    await j.go(j.page.getByRole('button', { name: 'Cast your vote' }), /done=vote/);
    await j.check('voted');
    main = await j.page.locator('main').innerText();
    j.expect(main.includes('Your vote is recorded.'), `${member}'s vote is confirmed`);
    j.expect(!main.includes('Record the decision'), 'only the decider records it');
    await j.signOut();
  }

  await j.signIn('Sam Patel');
  await openFromHome(j, 'Decisions to record');
  main = await j.page.locator('main').innerText();
  j.expect(main.includes('2 of 4 eligible members agree; 2 must.'), 'the votes are counted');
  j.expect(main.includes('The rules allow adopting it now.'), 'nothing left to wait for');
  await j.choose(j.page.getByLabel('Adopt it'));
  await j.type(j.page.getByLabel('Why you decide this way'), 'Half the station agrees; Lena and Grace were heard at the team meeting.');
  await j.go(j.page.getByRole('button', { name: 'Record the decision' }), /done=decided/);
  await j.check('decided');
  main = await j.page.locator('main').innerText();
  j.expect(main.includes('The decision is recorded.'), 'the decision is confirmed');
  j.expect(/Adopted\s+by Sam Patel/.test(main), `adopted, by name: ${main}`);
  j.expect(main.includes('2 agree votes counted; 2 were needed'), 'the votes counted are recorded');
  j.expect(!/[0-9a-f]{8}-[0-9a-f]{4}-/.test(main), 'no ids are shown');
}
