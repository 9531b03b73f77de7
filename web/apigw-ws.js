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
//   flushes them once open;
// - strips the toolkit's envelope ("apigw" key) from each message before any handler sees it, and
//   uses it: messages published to a channel with history carry {channel, epoch, offset}; the client
//   keeps the last position per channel, drops duplicates, holds messages that arrive ahead of a
//   missing one, and after every reconnect asks the backend for what it missed ("apigw.recover"),
//   so handlers see each message once, in order. When the gap cannot be recovered (history
//   retention, a new epoch) handlers of 'apigw.recovered' get {channel, recovered: false, reason}:
//   refetch the state then. Messages with {"apigw": {"id"}} are dropped when the id was seen among
//   the last maxRecentIds.

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
  // The backend's built-in recovery handler, and how long to wait for its end marker before giving
  // up (the gap is then reported as not recovered).
  recoverHandler: 'apigw.recover',
  recoverTimeoutMs: 10000,
  // How long a message that arrived ahead of a missing one waits for it (separate publishes may
  // overtake each other) before the client asks the backend for the gap.
  gapWaitMs: 1000,
  // How many delivery ids ({"apigw": {"id"}}) are remembered to drop repeats.
  maxRecentIds: 1000,
};

/** RECOVERED: the type of the message handlers get when a channel's recovery ended. */
export const RECOVERED = 'apigw.recovered';

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
   *   maxDelayMs, maxQueue, recoverHandler, recoverTimeoutMs, gapWaitMs, maxRecentIds; for tests:
   *   fetch, WebSocket, random, setTimeout, clearTimeout.
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
    this._positions = new Map(); // channel -> {epoch, offset} of the last message handed to the app
    this._recovering = new Map(); // channel -> {buffer: Map(offset -> [envelope, message]), timer}
    this._ahead = new Map(); // channel -> {buffer, timer}: live messages past a missing one
    this._recentIds = new Set();
    this._recentOrder = [];
  }

  /** positions: the last {epoch, offset} handed to the app, per channel (a copy). */
  get positions() {
    return Object.fromEntries([...this._positions].map(([c, p]) => [c, { ...p }]));
  }

  /** onRecovered: calls fn({channel, recovered, reason}) when a channel's recovery ends. */
  onRecovered(fn) {
    return this.on(RECOVERED, fn);
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
      this._recover([...this._positions.keys()]);
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
    if (message.type === 'apigw.replay' && Array.isArray(message.messages)) {
      for (const m of message.messages) if (m !== null && typeof m === 'object') this._accept(m);
      return;
    }
    if (message.type === RECOVERED) {
      this._recovered(message);
      return;
    }
    this._accept(message);
  }

  // _accept: one message as received: the envelope removed and acted on.
  _accept(message) {
    if (!Object.prototype.hasOwnProperty.call(message, 'apigw')) return this._deliver(message);
    const { apigw: env, ...app } = message;
    if (env === null || typeof env !== 'object') return this._deliver(app);
    if (typeof env.id === 'string' && this._seenId(env.id)) return undefined;
    if (typeof env.channel === 'string' && typeof env.epoch === 'string' && Number.isInteger(env.offset)) {
      return this._sequenced(env, app);
    }
    return this._deliver(app);
  }

  _seenId(id) {
    if (this._recentIds.has(id)) return true;
    this._recentIds.add(id);
    this._recentOrder.push(id);
    while (this._recentOrder.length > this.options.maxRecentIds) this._recentIds.delete(this._recentOrder.shift());
    return false;
  }

  // _sequenced: a channel message with its position: held while the channel recovers, dropped when
  // already seen, held while one before it is missing, else handed to the app.
  _sequenced(env, message) {
    const channel = env.channel;
    const recovering = this._recovering.get(channel);
    if (recovering) {
      recovering.buffer.set(`${env.epoch}/${env.offset}`, [env, message]);
      return;
    }
    const pos = this._positions.get(channel);
    if (!pos || pos.epoch !== env.epoch) {
      // The first message of this channel, or of a new epoch: it starts the sequence.
      this._positions.set(channel, { epoch: env.epoch, offset: env.offset });
      if (pos) this._deliver({ type: RECOVERED, channel, recovered: false, reason: 'epoch' });
      this._deliver(message);
      this._drainAhead(channel);
      return;
    }
    if (env.offset <= pos.offset) return; // a duplicate
    if (env.offset === pos.offset + 1) {
      pos.offset = env.offset;
      this._deliver(message);
      this._drainAhead(channel);
      return;
    }
    let ahead = this._ahead.get(channel);
    if (!ahead) {
      ahead = { buffer: new Map(), timer: null };
      this._ahead.set(channel, ahead);
      ahead.timer = this._setTimeout(() => this._recover([channel]), this.options.gapWaitMs);
    }
    ahead.buffer.set(`${env.epoch}/${env.offset}`, [env, message]);
  }

  // _drainAhead: hands over held messages that are next in sequence now.
  _drainAhead(channel) {
    const ahead = this._ahead.get(channel);
    if (!ahead) return;
    const pos = this._positions.get(channel);
    for (;;) {
      const next = ahead.buffer.get(`${pos.epoch}/${pos.offset + 1}`);
      if (!next) break;
      ahead.buffer.delete(`${pos.epoch}/${pos.offset + 1}`);
      pos.offset += 1;
      this._deliver(next[1]);
    }
    for (const [key, [env]] of ahead.buffer) if (env.epoch === pos.epoch && env.offset <= pos.offset) ahead.buffer.delete(key);
    if (ahead.buffer.size === 0) {
      this._clearTimeout(ahead.timer);
      this._ahead.delete(channel);
    }
  }

  // _recover: asks the backend for what each channel missed since its position; until the end
  // marker (or recoverTimeoutMs), the channel's messages are held.
  _recover(channels) {
    const wanted = [];
    for (const channel of channels) {
      const pos = this._positions.get(channel);
      if (!pos) continue;
      let rec = this._recovering.get(channel);
      if (!rec) {
        rec = { buffer: new Map(), timer: null };
        this._recovering.set(channel, rec);
      }
      const ahead = this._ahead.get(channel);
      if (ahead) {
        this._clearTimeout(ahead.timer);
        this._ahead.delete(channel);
        for (const [key, entry] of ahead.buffer) rec.buffer.set(key, entry);
      }
      this._clearTimeout(rec.timer);
      rec.timer = this._setTimeout(
        () => this._recovered({ type: RECOVERED, channel, recovered: false, reason: 'timeout' }),
        this.options.recoverTimeoutMs,
      );
      wanted.push({ channel, epoch: pos.epoch, offset: pos.offset });
    }
    if (wanted.length > 0) this.send(this.options.recoverHandler, { channels: wanted });
  }

  // _recovered: the end of a channel's recovery: held messages go to the app in order; a gap that
  // could not be recovered is reported first, and the sequence restarts at the backend's position.
  _recovered(marker) {
    const channel = marker.channel;
    const rec = this._recovering.get(channel);
    if (!rec) return; // late: that recovery already timed out
    this._clearTimeout(rec.timer);
    this._recovering.delete(channel);
    const recovered = marker.recovered === true;
    if (!recovered) {
      // Go on from the backend's position; without one, the next message starts the sequence.
      if (typeof marker.epoch === 'string' && marker.epoch && Number.isInteger(marker.offset)) {
        this._positions.set(channel, { epoch: marker.epoch, offset: marker.offset });
      } else {
        this._positions.delete(channel);
      }
    }
    this._deliver({ type: RECOVERED, channel, recovered, reason: marker.reason ?? '' });
    const held = [...rec.buffer.values()].sort((a, b) => a[0].offset - b[0].offset);
    for (const [env, message] of held) this._sequenced(env, message);
  }

  _deliver(message) {
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
