// apigw-ws.d.ts: hand-written types for apigw-ws.js, the browser client of apigw-ws backends.
// Kept beside the module it describes; test/types/ checks it with `tsc --noEmit` (npm test).

/** A connection state; a connection goes through them in this order. */
export type State = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'unauthorized' | 'closed';

/** STATES: every State, in order. */
export const STATES: readonly State[];

/** The level of a toast or a system message. */
export type Level = 'info' | 'success' | 'warning' | 'error';

/** toast: a pop-up notice (apigw::toast). `timeout` in milliseconds. */
export interface ToastMessage {
  type: 'toast';
  level: Level;
  title: string;
  message: string;
  timeout?: number;
  action_url?: string;
}

/** task_progress: `percent` is 0..100 (apigw::task_progress). */
export interface TaskProgressMessage {
  type: 'task_progress';
  task_id: string;
  percent: number;
  message: string;
}

/** task_complete: the end of a task, with an optional link to its result (apigw::task_complete). */
export interface TaskCompleteMessage {
  type: 'task_complete';
  task_id: string;
  result_url?: string;
}

/** resource_updated: refetch `fetch_url` (apigw::resource_updated). */
export interface ResourceUpdatedMessage {
  type: 'resource_updated';
  resource: string;
  id: string;
  fetch_url: string;
}

/** chat_message: a message in a chat room (apigw::chat_message). */
export interface ChatMessage {
  type: 'chat_message';
  room: string;
  username: string;
  message: string;
}

/** system: an operator message such as a maintenance banner (apigw::system). */
export interface SystemMessage {
  type: 'system';
  level: Level;
  message: string;
}

/** The type of the message handlers get when a channel's recovery ends. */
export const RECOVERED: 'apigw.recovered';

/**
 * The end of a channel's recovery after a reconnect (or after a gap that did not fill by itself).
 * recovered false: some messages are lost for good (history retention, a new epoch, no history,
 * forbidden, timeout): refetch the state the channel's messages keep up to date.
 */
export interface RecoveredMessage {
  type: 'apigw.recovered';
  channel: string;
  recovered: boolean;
  reason: '' | 'retention' | 'epoch' | 'too_many' | 'no_history' | 'forbidden' | 'invalid_channel' | 'unavailable' | 'timeout';
}

/** A channel position: the epoch and offset of the last message handed to the app. */
export interface Position {
  epoch: string;
  offset: number;
}

/** The messages the C++ builders make, by their "type". */
export interface MessageMap {
  'apigw.recovered': RecoveredMessage;
  toast: ToastMessage;
  task_progress: TaskProgressMessage;
  task_complete: TaskCompleteMessage;
  resource_updated: ResourceUpdatedMessage;
  chat_message: ChatMessage;
  system: SystemMessage;
}

/** Any message: a JSON object with a "type" (an application may send types of its own). */
export interface Message {
  type?: unknown;
  [key: string]: unknown;
}

/** The detail passed with a state change: the attempt, the delay before it, why the last one ended. */
export interface StateDetail {
  attempt?: number;
  delayMs?: number;
  status?: number;
  code?: number;
  reason?: string;
  [key: string]: unknown;
}

/** What send() did with the message. */
export type SendResult = 'sent' | 'queued' | 'dropped';

/** The minimal WebSocket the client uses (the browser's, or a test's). */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: { data: any }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: any) => void) | null;
}

/** The options of ApigwClient; every member but `url`/`urlProvider` has a default. */
export interface ClientOptions {
  /** ws:// or wss:// URL of the API stage, e.g. wss://ws.example.com/prod. */
  url?: string;
  /** Called before every connect instead of using `url`. */
  urlProvider?: () => string | Promise<string>;
  /** The backend's token endpoint, POSTed before every connect. Default '/api/ws-token/';
   * absolute when the page is served from another origin than the backend. */
  tokenUrl?: string;
  /** The fetch credentials mode of the token request. Default 'same-origin'; 'include' for a
   * backend on another origin (which must allow this origin, with credentials, by CORS). */
  credentials?: 'omit' | 'same-origin' | 'include';
  /** The channel to join on connect (query parameter `channel`). Default none. */
  channel?: string;
  /** Sent as `csrfHeader` with the token request (the login answer's CSRF token). */
  csrfToken?: string;
  /** Default 'X-CSRF-Token'. */
  csrfHeader?: string;
  /** Default 5 minutes (half of API Gateway's idle timeout). */
  heartbeatMs?: number;
  /**
   * The heartbeat frame, sent as JSON. Default {action: 'heartbeat'}: the route key "heartbeat"
   * under the route selection expression $request.body.action, which an API answers itself when
   * that route has a MOCK integration (no backend request), and which otherwise reaches the
   * backend's "heartbeat" handler through $default.
   */
  heartbeatMessage?: Record<string, unknown>;
  /**
   * @deprecated Use heartbeatMessage. When given without heartbeatMessage, the heartbeat is
   * {handler: heartbeatHandler} (0.1.0's frame), which always reaches the backend.
   */
  heartbeatHandler?: string;
  /** Reconnect backoff: first delay (default 500 ms) and cap (default 30 s). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Sends kept while disconnected; the oldest are dropped beyond it. Default 100. */
  maxQueue?: number;
  /** The backend's recovery handler (default 'apigw.recover') and how long to wait for its end marker (default 10 s). */
  recoverHandler?: string;
  recoverTimeoutMs?: number;
  /** How long a message that arrived ahead of a missing one waits for it before recovery is asked (default 1 s). */
  gapWaitMs?: number;
  /** How many delivery ids are remembered to drop repeats (default 1000). */
  maxRecentIds?: number;
  /** For tests: replacements of the globals. */
  fetch?: (url: string, init: RequestInit) => Promise<{ ok: boolean; status: number; json(): Promise<any> }>;
  WebSocket?: new (url: string) => WebSocketLike;
  random?: () => number;
  setTimeout?: (fn: () => void, ms: number) => any;
  clearTimeout?: (handle: any) => void;
}

/** backoffDelay: the wait before reconnect attempt `attempt` (0-based), with jitter. */
export function backoffDelay(
  attempt: number,
  options?: { initialDelayMs?: number; maxDelayMs?: number; random?: () => number },
): number;

/** ApigwClient: one WebSocket connection to an apigw-ws backend through API Gateway. */
export class ApigwClient {
  constructor(options: ClientOptions);
  readonly options: Required<Pick<ClientOptions, 'tokenUrl' | 'credentials' | 'channel' | 'csrfToken' | 'csrfHeader'>> &
    ClientOptions;
  /** Sends dropped because the queue was full. */
  readonly dropped: number;
  /** The current connection state. */
  readonly state: State;
  /** on: calls fn for every message of `type` ('*': every message). Returns an unsubscribe function. */
  on<K extends keyof MessageMap>(type: K, fn: (message: MessageMap[K]) => void): () => void;
  on(type: string, fn: (message: Message) => void): () => void;
  /** onState: calls fn on every state change. Returns an unsubscribe function. */
  onState(fn: (state: State, detail: StateDetail) => void): () => void;
  /** onRecovered: calls fn when a channel's recovery ends. Returns an unsubscribe function. */
  onRecovered(fn: (message: RecoveredMessage) => void): () => void;
  /** The last position handed to the app, per channel (a copy). */
  readonly positions: Record<string, Position>;
  /** send: sends {handler, ...payload}. */
  send(handler: string, payload?: Record<string, unknown>): SendResult;
  /** start: connects, and keeps reconnecting until close(). */
  start(): this;
  /** close: closes the socket for good; pending sends are dropped. */
  close(): void;
}

/**
 * showToasts: renders every toast in `container` (created when omitted, as a polite live region);
 * each has a close button and stays while hovered or focused. Returns an unsubscribe function.
 */
export function showToasts(client: ApigwClient, container?: HTMLElement): () => void;

/** The progress UI of one task: a <progress> and an optional label. */
export interface ProgressUi {
  bar: { value: number };
  label?: { textContent: string | null };
}

/** trackProgress: moves the bar `find(task_id)` returns; onComplete gets task_complete. Returns an unsubscribe function. */
export function trackProgress(
  client: ApigwClient,
  handlers: { find: (taskId: string) => ProgressUi | null | undefined; onComplete?: (message: TaskCompleteMessage) => void },
): () => void;

/** invalidate: refetches each same-origin resource_updated fetch_url and calls onData. Returns an unsubscribe function. */
export function invalidate(
  client: ApigwClient,
  onData: (resource: string, id: string, data: any) => void,
  onError?: (message: ResourceUpdatedMessage, error: unknown) => void,
): () => void;

/**
 * showSystemBanner: shows warning/error system messages in a banner with a Dismiss button (the next
 * message shows it again). Returns an unsubscribe function.
 */
export function showSystemBanner(client: ApigwClient, container?: HTMLElement): () => void;

/**
 * renderSystemBanner: shows one system message as the page's banner (what showSystemBanner does per
 * message), for a notice the page fetched itself; Dismiss hides it and calls `onDismiss`.
 */
export function renderSystemBanner(
  message: { level: string; message: string },
  container?: HTMLElement,
  onDismiss?: () => void,
): HTMLElement;
