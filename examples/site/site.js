// examples/site/site.js: what every example page shares: log in (or show the login form), the
// navigation bar with the connection state, and one ApigwClient on the page's channel with the
// toast, banner and state handlers already attached.
import { ApigwClient, renderSystemBanner, showSystemBanner, showToasts } from '/web/apigw-ws.js';

const APPS = [
  ['/', 'Home'],
  ['/app/chat/', 'Chat'],
  ['/app/notifications/', 'Notifications'],
  ['/app/progress/', 'Task progress'],
  ['/app/dashboard/', 'Dashboard'],
];

async function getJson(url) {
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) throw Object.assign(new Error(`${url}: ${res.status}`), { status: res.status });
  return res.json();
}

// postJson: a state-changing request with the CSRF token; resolves to {ok, status, data}.
export async function postJson(url, body, me) {
  const res = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
    body: JSON.stringify(body),
  });
  return { ok: res.ok, status: res.status, data: await res.json().catch(() => ({})) };
}

// codePoints: the length of `text` in Unicode code points, as the backend counts it ("ж" and "😀"
// are one each; String.length would count the emoji twice).
export function codePoints(text) {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

// timeElement: a <time> for an ISO 8601 instant, shown in the viewer's own time zone with the
// zone's name; `style` 'time' shows the hour and minute only (the date and zone stay in the tooltip).
export function timeElement(iso, style = 'full') {
  const el = document.createElement('time');
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) {
    el.textContent = iso;
    return el;
  }
  el.dateTime = when.toISOString();
  // (dateStyle/timeStyle cannot be combined with timeZoneName: the parts are named one by one.)
  const full = when.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', second: '2-digit', timeZoneName: 'short',
  });
  el.textContent = style === 'time' ? when.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }) : full;
  el.title = full;
  return el;
}

function header(me) {
  const h = document.createElement('header');
  const brand = Object.assign(document.createElement('span'), { className: 'brand', textContent: 'apigw-ws' });
  const nav = document.createElement('nav');
  nav.setAttribute('aria-label', 'Example apps');
  // The console is for admins only (its API refuses everyone else), so only they see it listed.
  const apps = me?.permissions?.includes('admin') ? [...APPS, ['/app/console/', 'Console']] : APPS;
  for (const [href, label] of apps) {
    const a = Object.assign(document.createElement('a'), { href, textContent: label });
    if (location.pathname === href) {
      a.className = 'here';
      a.setAttribute('aria-current', 'page');
    }
    nav.append(a);
  }
  h.append(brand, nav, Object.assign(document.createElement('span'), { className: 'spacer' }));
  if (me) {
    const who = Object.assign(document.createElement('span'), { className: 'who' });
    const state = Object.assign(document.createElement('span'), { id: 'state', className: 'state', textContent: 'idle' });
    // A polite live region: a screen reader hears when the connection drops and comes back.
    state.setAttribute('role', 'status');
    state.title = 'Connection state';
    const name = Object.assign(document.createElement('span'), { id: 'me', textContent: me.username });
    const out = Object.assign(document.createElement('button'), { type: 'button', className: 'secondary', textContent: 'Log out' });
    out.onclick = async () => {
      await postJson('/api/logout/', {}, me);
      location.reload();
    };
    who.append(state, name, out);
    h.append(who);
  }
  document.body.prepend(h);
}

function loginForm() {
  const main = document.querySelector('main');
  main.innerHTML = `
    <form class="card login" id="login">
      <h1>Log in</h1>
      <label>User name <input name="username" autocomplete="username" required></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
      <button type="submit">Log in</button>
      <p class="muted">The users and passwords are printed by <code>apigw-ws dev</code>.</p>
      <p class="notice-error" id="login-error" role="alert"></p>
    </form>`;
  main.querySelector('form').onsubmit = async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    const res = await fetch('/api/login/', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: form.get('username'), password: form.get('password') }),
    });
    if (res.ok) location.reload();
    else document.getElementById('login-error').textContent = 'Wrong user name or password.';
  };
}

// showAnnouncement: the notice an operator last sent to everyone, for a visitor who is not logged
// in (no socket reaches them). Dismissed once, it stays hidden for this notice in this tab.
async function showAnnouncement() {
  let notice = null;
  try {
    notice = (await getJson('/api/announcement/')).announcement;
  } catch {
    return; // no notice is better than a broken login page
  }
  if (!notice) return;
  const key = `apigw-dismissed-${notice.at}`;
  if (sessionStorage.getItem(key)) return;
  renderSystemBanner(notice, undefined, () => sessionStorage.setItem(key, '1'));
}

/**
 * startPage: logs in (or shows the login form and resolves to null) and connects to `channel`.
 * Resolves to {me, client}; the client is started after `setup(client, me)` registered its handlers.
 */
export async function startPage({ channel, setup = () => {} }) {
  let me = null;
  try {
    me = await getJson('/api/me/');
  } catch (err) {
    if (err.status !== 401) throw err;
  }
  header(me);
  if (!me) {
    loginForm();
    await showAnnouncement();
    return null;
  }
  const client = new ApigwClient({
    urlProvider: async () => (await getJson('/api/ws-config/')).url,
    channel,
    csrfToken: me.csrf_token,
  });
  const badge = document.getElementById('state');
  client.onState((state) => {
    badge.textContent = state;
    badge.className = `state ${state}`;
    document.body.dataset.wsState = state;
  });
  showToasts(client);
  showSystemBanner(client);
  await setup(client, me);
  client.start();
  window.apigwClient = client; // for the browser tests and the curious
  return { me, client };
}
