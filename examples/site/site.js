// examples/site/site.js: what every example page shares: log in (or show the login form), the
// navigation bar with the connection state, and one ApigwClient on the page's channel with the
// toast, banner and state handlers already attached.
import { ApigwClient, showSystemBanner, showToasts } from '/web/apigw-ws.js';

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

function header(me) {
  const h = document.createElement('header');
  const brand = Object.assign(document.createElement('span'), { className: 'brand', textContent: 'apigw-ws' });
  h.append(brand);
  for (const [href, label] of APPS) {
    const a = Object.assign(document.createElement('a'), { href, textContent: label });
    if (location.pathname === href) a.className = 'here';
    h.append(a);
  }
  h.append(Object.assign(document.createElement('span'), { className: 'spacer' }));
  if (me) {
    const state = Object.assign(document.createElement('span'), { id: 'state', className: 'state', textContent: 'idle' });
    const who = Object.assign(document.createElement('span'), { id: 'me', textContent: me.username });
    const out = Object.assign(document.createElement('button'), { className: 'secondary', textContent: 'Log out' });
    out.onclick = async () => {
      await postJson('/api/logout/', {}, me);
      location.reload();
    };
    h.append(state, who, out);
  }
  document.body.prepend(h);
}

function loginForm() {
  const main = document.querySelector('main');
  main.innerHTML = `
    <form class="card login" id="login">
      <h1>Log in</h1>
      <input name="username" placeholder="Username" autocomplete="username" required>
      <input name="password" type="password" placeholder="Password" autocomplete="current-password" required>
      <button type="submit">Log in</button>
      <p class="muted">The users and passwords are printed by <code>apigw-ws dev</code>.</p>
      <p class="error" id="login-error"></p>
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
