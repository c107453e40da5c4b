// Opens GraphiQL from a running advice-log server in headless Chromium, puts
// a token in the Headers editor, runs a query with the Run button, and prints
// the response panel's text. Usage: node graphiql.mjs URL TOKEN QUERY
import { chromium } from 'playwright-core';

const [url, token, query] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  page.on('pageerror', (error) => console.error('page error:', error.message));
  await page.goto(url);
  await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 30000 });
  await page.evaluate(([query, headers]) => {
    document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(query);
    const editors = [...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')];
    // The second tool editor is Headers (the first is Variables).
    editors[editors.length - 1].CodeMirror.setValue(headers);
  }, [query, JSON.stringify({ Authorization: `Bearer ${token}` })]);
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(() => {
    const result = document.querySelector('.graphiql-response .CodeMirror');
    return result && result.CodeMirror.getValue().includes('"data"');
  }, null, { timeout: 30000 });
  const text = await page.evaluate(() => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue());
  console.log(text);
} finally {
  await browser.close();
}
