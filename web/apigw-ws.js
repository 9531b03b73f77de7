// apigw-ws.js: the browser client for apigw-ws backends (an ES module; no build step).
//
//   import { ApigwClient, showToasts, trackProgress, invalidate, showSystemBanner } from '/web/apigw-ws.js';
//   const client = new ApigwClient({ url: 'ws://127.0.0.1:4510/dev', channel: 'chat', csrfToken });
//   client.on('chat_message', (m) => render(m));
//   client.onState((state) => badge.textContent = state);
//   client.start();
//   client.send('chat_say', { room: 'general', text: 'hi' });
//
// What it does for you:
// - before every connect, POSTs the token endpoint for a fresh one-time token (a token is good for
//   one connect only) and opens `url?channel=...&ws_token=...`;
// - reconnects after any close it did not ask for, with exponential backoff and jitter, until
//   close(); a 401/403 from the token endpoint stops it (state 'unauthorized': log in again);
// - sends a heartbeat message well inside API Gateway's 10-minute idle limit: {"action":"heartbeat"},
//   which an API with a MOCK "heartbeat" route answers without calling the backend (the api.json
//   of docs/design/infra.md and `apigw-ws dev` have one), and which otherwise reaches the backend's
//   "heartbeat" handler through $default;
// - dispatches each message to the handlers registered for its "type" ('*' gets every message);
// - queues sends made while disconnected (bounded: the oldest are dropped beyond maxQueue) and
//   flushes them once open.

/** The connection states, in the order a connection goes through them. */
export const STATES = Object.freeze(['idle', 'connecting', 'open', 'reconnecting', 'unauthorized', 'closed']);

const DEFAULTS = {
  tokenUrl: '/api/ws-token/',
  // The fetch credentials mode of the token request: 'include' when the page is served from
  // another origin than the backend (the backend must then allow that origin with credentials).
  credentials: 'same-origin',
  channel: '',
  csrfToken: '',
  csrfHeader: 'X-CSRF-Token',
  heartbeatMs: 5 * 60 * 1000, // half of API Gateway's 10-minute idle timeout
  // The heartbeat frame's JSON. Its "action" is the route key under the route selection expression
  // $request.body.action: the MOCK "heartbeat" route when the API has one (no backend request),
  // else $default and the backend's handler of that name (it reads "handler", then "action").
  heartbeatMessage: { action: 'heartbeat' },
  initialDelayMs: 500,
  maxDelayMs: 30000,
  maxQueue: 100,
};

/**
 * backoffDelay: the wait before reconnect attempt `attempt` (0-based): exponential, capped, with
 * "equal jitter" (half fixed, half random) so a gateway restart is not met by every client at once.
 */
export function backoffDelay(attempt, { initialDelayMs = 500, maxDelayMs = 30000, random = Math.random } = {}) {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class ApigwClient {
  /**
   * @param {object} options url (ws:// or wss:// of the API stage) or urlProvider (async () => url);
   *   tokenUrl (absolute for a backend on another origin), credentials (fetch mode of the token
   *   request), channel, csrfToken, csrfHeader, heartbeatMs, heartbeatMessage (heartbeatHandler:
   *   the older option, sends {handler} instead when heartbeatMessage is not given), initialDelayMs,
   *   maxDelayMs, maxQueue; for tests: fetch, WebSocket, random, setTimeout, clearTimeout.
   *   Types: apigw-ws.d.ts.
   */
  constructor(options) {
    this.options = { ...DEFAULTS, ...options };
    const o = this.options;
    // heartbeatHandler (0.1.0 sent {"handler":"heartbeat"}) still works when it is the only
    // heartbeat option given.
    if (options?.heartbeatHandler !== undefined && options?.heartbeatMessage === undefined) {
      o.heartbeatMessage = { handler: options.heartbeatHandler };
    }
    this._fetch = o.fetch ?? globalThis.fetch.bind(globalThis);
    this._WebSocket = o.WebSocket ?? globalThis.WebSocket;
    this._random = o.random ?? Math.random;
    this._setTimeout = o.setTimeout ?? globalThis.setTimeout.bind(globalThis);
    this._clearTimeout = o.clearTimeout ?? globalThis.clearTimeout.bind(globalThis);
    this._handlers = new Map();
    this._stateHandlers = new Set();
    this._queue = [];
    this._state = 'idle';
    this._attempt = 0;
    this._ws = null;
    this._timer = null;
    this._heartbeat = null;
    this.dropped = 0; // sends dropped because the queue was full
  }

  /** state: the current connection state (one of STATES). */
  get state() {
    return this._state;
  }

  /** on: calls fn(message) for every message whose "type" is `type` ('*': all). Returns an unsubscribe function. */
  on(type, fn) {
    if (!this._handlers.has(type)) this._handlers.set(type, new Set());
    this._handlers.get(type).add(fn);
    return () => this._handlers.get(type)?.delete(fn);
  }

  /** onState: calls fn(state, detail) on every state change. Returns an unsubscribe function. */
  onState(fn) {
    this._stateHandlers.add(fn);
    return () => this._stateHandlers.delete(fn);
  }

  /**
   * send: sends {handler, ...payload}. Returns 'sent', or 'queued' while not connected (flushed on
   * open), or 'dropped' after close().
   */
  send(handler, payload = {}) {
    const text = JSON.stringify({ ...payload, handler });
    if (this._state === 'closed') return 'dropped';
    if (this._ws && this._state === 'open') {
      this._ws.send(text);
      return 'sent';
    }
    this._queue.push(text);
    while (this._queue.length > this.options.maxQueue) {
      this._queue.shift();
      this.dropped += 1;
    }
    return 'queued';
  }

  /** start: connects (and keeps reconnecting until close()). */
  start() {
    if (this._state !== 'idle' && this._state !== 'unauthorized') return this;
    this._connect();
    return this;
  }

  /** close: closes the socket for good; pending sends are dropped. */
  close() {
    this._clearTimeout(this._timer);
    this._stopHeartbeat();
    this._queue = [];
    this._setState('closed');
    if (this._ws) {
      const ws = this._ws;
      this._ws = null;
      ws.close(1000, 'client closed');
    }
  }

  async _connect() {
    this._setState(this._attempt === 0 ? 'connecting' : 'reconnecting', { attempt: this._attempt });
    let url;
    try {
      url = await this._socketUrl();
    } catch (err) {
      if (this._state === 'closed') return;
      if (err.status === 401 || err.status === 403) {
        this._setState('unauthorized', { status: err.status });
        return;
      }
      this._retry(err);
      return;
    }
    if (this._state === 'closed') return;
    const ws = new this._WebSocket(url);
    this._ws = ws;
    ws.onopen = () => {
      if (this._ws !== ws) return;
      this._attempt = 0;
      this._setState('open');
      this._startHeartbeat();
      const pending = this._queue;
      this._queue = [];
      for (const text of pending) ws.send(text);
    };
    ws.onmessage = (event) => this._dispatch(event.data);
    ws.onclose = (event) => {
      if (this._ws !== ws) return;
      this._ws = null;
      this._stopHeartbeat();
      if (this._state !== 'closed') this._retry({ code: event.code, reason: event.reason });
    };
    ws.onerror = () => {}; // a close event always follows
  }

  async _socketUrl() {
    const o = this.options;
    const base = o.urlProvider ? await o.urlProvider() : o.url;
    const headers = {};
    if (o.csrfToken) headers[o.csrfHeader] = o.csrfToken;
    const res = await this._fetch(o.tokenUrl, { method: 'POST', credentials: o.credentials, headers });
    if (!res.ok) {
      const err = new Error(`token endpoint answered ${res.status}`);
      err.status = res.status;
      throw err;
    }
    const { token } = await res.json();
    const u = new URL(base);
    if (o.channel) u.searchParams.set('channel', o.channel);
    u.searchParams.set('ws_token', token);
    return u.toString();
  }

  _retry(detail) {
    const delay = backoffDelay(this._attempt, { ...this.options, random: this._random });
    this._attempt += 1;
    this._setState('reconnecting', { attempt: this._attempt, delayMs: delay, ...detail });
    this._clearTimeout(this._timer);
    this._timer = this._setTimeout(() => this._connect(), delay);
  }

  _dispatch(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return; // not ours: every apigw-ws message is a JSON object
    }
    if (message === null || typeof message !== 'object') return;
    for (const key of [message.type, '*']) {
      for (const fn of this._handlers.get(key) ?? []) {
        try {
          fn(message);
        } catch (err) {
          console.error('apigw-ws handler failed', err);
        }
      }
    }
  }

  _startHeartbeat() {
    this._stopHeartbeat();
    const beat = () => {
      if (this._ws && this._state === 'open') this._ws.send(JSON.stringify(this.options.heartbeatMessage));
      this._heartbeat = this._setTimeout(beat, this.options.heartbeatMs);
    };
    this._heartbeat = this._setTimeout(beat, this.options.heartbeatMs);
  }

  _stopHeartbeat() {
    this._clearTimeout(this._heartbeat);
    this._heartbeat = null;
  }

  _setState(state, detail = {}) {
    this._state = state;
    for (const fn of this._stateHandlers) fn(state, detail);
  }
}

// ---- Ready handlers for the message patterns (browser only: they touch the DOM) ----

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/**
 * showToasts: renders every "toast" message ({level, title, message, timeout, action_url}) as a
 * pop-up in `container` (created at the page's corner when omitted, as a polite live region so
 * screen readers read each toast); removed after `timeout` ms (default 5000, held while the
 * pointer or keyboard focus is on it) or on click of its close button.
 */
export function showToasts(client, container) {
  let box = container;
  if (!box) {
    box = document.body.appendChild(element('div', 'apigw-toasts'));
    box.setAttribute('aria-live', 'polite');
  }
  return client.on('toast', (m) => {
    const t = element('div', `apigw-toast apigw-toast-${m.level}`);
    t.append(element('strong', '', m.title), element('p', '', m.message));
    if (m.action_url) {
      const a = element('a', '', 'Open');
      a.href = m.action_url;
      t.append(a);
    }
    const close = element('button', 'apigw-toast-close', '×');
    close.type = 'button';
    close.setAttribute('aria-label', 'Dismiss notification');
    close.onclick = () => t.remove();
    t.append(close);
    box.append(t);
    // Someone reading it or about to click it keeps it; it goes once they move on.
    const expire = () => (t.matches(':hover, :focus-within') ? setTimeout(expire, 1000) : t.remove());
    setTimeout(expire, m.timeout ?? 5000);
  });
}

/**
 * trackProgress: keeps a progress bar per task: `find(task_id)` returns {bar: <progress>, label?};
 * completion fills the bar and calls onComplete(message) with its result_url. Bars never move
 * backwards: messages of separate sends may arrive in any order.
 */
export function trackProgress(client, { find, onComplete = () => {} }) {
  const offProgress = client.on('task_progress', (m) => {
    const ui = find(m.task_id);
    if (!ui || m.percent < ui.bar.value) return;
    ui.bar.value = m.percent;
    if (ui.label) ui.label.textContent = `${m.percent} % — ${m.message}`;
  });
  const offComplete = client.on('task_complete', (m) => {
    const ui = find(m.task_id);
    if (ui) ui.bar.value = 100;
    onComplete(m);
  });
  return () => {
    offProgress();
    offComplete();
  };
}

/**
 * invalidate: on each "resource_updated" message ({resource, id, fetch_url}) fetches fetch_url
 * (same-origin credentials) and calls onData(resource, id, data); a failed fetch calls
 * onError(message, error). Only same-origin fetch URLs are followed.
 */
export function invalidate(client, onData, onError = () => {}) {
  return client.on('resource_updated', async (m) => {
    try {
      const url = new URL(m.fetch_url, location.href);
      if (url.origin !== location.origin) throw new Error(`refusing cross-origin fetch_url ${m.fetch_url}`);
      const res = await fetch(url, { credentials: 'same-origin' });
      if (!res.ok) throw new Error(`${url} answered ${res.status}`);
      onData(m.resource, m.id, await res.json());
    } catch (err) {
      onError(m, err);
    }
  });
}

/**
 * renderSystemBanner: shows one system message ({level, message}) as the banner at the top of the
 * page (or in `container`), with a Dismiss button that hides it and calls `onDismiss`. What
 * showSystemBanner does per message; a page also calls it for a notice fetched over HTTP (a
 * visitor who is not logged in has no socket).
 */
export function renderSystemBanner(m, container, onDismiss) {
  let el = container ?? document.getElementById('apigw-banner');
  if (!el) {
    el = element('div');
    el.id = 'apigw-banner';
    document.body.prepend(el);
  }
  el.className = `apigw-banner apigw-banner-${m.level}`;
  el.setAttribute('role', 'alert');
  const close = element('button', 'apigw-banner-close', 'Dismiss');
  close.type = 'button';
  close.setAttribute('aria-label', 'Dismiss this notice');
  close.onclick = () => {
    el.hidden = true;
    onDismiss?.();
  };
  el.replaceChildren(element('span', 'apigw-banner-text', m.message), close);
  el.hidden = false;
  return el;
}

/**
 * showSystemBanner: shows "system" messages of level warning/error as a banner at the top of the
 * page (or in `container`), with a Dismiss button; the next message shows it again.
 */
export function showSystemBanner(client, container) {
  return client.on('system', (m) => {
    if (m.level !== 'warning' && m.level !== 'error') return;
    renderSystemBanner(m, container);
  });
}
