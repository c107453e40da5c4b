// A proposal page that follows its proposal: when one of its events is
// recorded, the page's main content is fetched again and swapped in, unless
// the person is typing in one of its forms or has moved focus into it; then
// a notice offers to reload.
// Without JavaScript the page is complete; this only saves a reload.
const live = () => document.getElementById('proposal-live')
const main = document.querySelector('main')
if (live() && main && 'EventSource' in window) {
  let typing = false
  main.addEventListener('input', (e) => { if (e.target.closest('form')) typing = true })
  const say = (html) => { const notice = live(); if (notice) notice.innerHTML = html }
  const tell = () => say('<p>This proposal has changed. <a href="' + location.pathname + '">Reload the page</a> to see what is new.</p>')
  const refresh = async () => {
    const active = document.activeElement
    // Swapping would lose their place: typing, or focus anywhere in the page.
    if (typing || (active && active !== document.body && main.contains(active))) return tell()
    const response = await fetch(location.pathname, { headers: { Accept: 'text/html' } })
    if (!response.ok) return tell()
    const fresh = new DOMParser().parseFromString(await response.text(), 'text/html').querySelector('main')
    if (!fresh) return tell()
    main.innerHTML = fresh.innerHTML
    typing = false
    say('<p class="nhsuk-body-s">This proposal changed; the page shows it as it is now.</p>')
    history.replaceState(null, '', location.pathname)
  }
  const source = new EventSource(live().dataset.updates)
  source.addEventListener('changed', () => { refresh().catch(tell) })
}
