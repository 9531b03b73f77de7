// usage.ts: compiled (never run) by test/types.test.js with `tsc --noEmit` against apigw-ws.d.ts,
// through the package's own name and "exports" map, as an application would import it. Each line
// marked ts-expect-error fails the check if the types ever stop catching that mistake.
import {
  ApigwClient,
  STATES,
  backoffDelay,
  invalidate,
  renderSystemBanner,
  showSystemBanner,
  showToasts,
  trackProgress,
  type State,
  type ToastMessage,
} from 'apigw-ws';

const client = new ApigwClient({
  url: 'wss://ws.example.com/prod',
  tokenUrl: 'https://api.example.com/api/ws-token/',
  credentials: 'include',
  channel: 'general',
  csrfToken: 'token',
});
const started: ApigwClient = client.start();
const state: State = started.state;
const first: State | undefined = STATES[0];
const delay: number = backoffDelay(3, { initialDelayMs: 100 });

const offToast = client.on('toast', (m: ToastMessage) => m.title.toUpperCase());
client.on('task_progress', (m) => m.percent.toFixed(0));
client.on('my_app_event', (m) => m['anything']);
client.onState((s, detail) => (s === 'reconnecting' ? detail.delayMs : undefined));
client.onRecovered((m) => (m.recovered ? undefined : m.channel.toUpperCase()));
client.on('apigw.recovered', (m) => m.reason);
const where: number | undefined = client.positions['room']?.offset;
void where;
const sent: 'sent' | 'queued' | 'dropped' = client.send('say', { text: 'hi' });
offToast();

const offAll = [
  showToasts(client),
  trackProgress(client, { find: () => ({ bar: { value: 0 } }), onComplete: (m) => m.result_url }),
  invalidate(client, (resource, id) => `${resource}/${id}`),
  showSystemBanner(client),
];
offAll.forEach((off) => off());
const banner: HTMLElement = renderSystemBanner({ level: 'warning', message: 'Maintenance at 18:00' }, undefined, () => {});
banner.hidden = true;
client.close();

// @ts-expect-error credentials is a fetch credentials mode
new ApigwClient({ url: 'wss://x', credentials: 'always' });
// @ts-expect-error a toast has no percent
client.on('toast', (m) => m.percent);
// @ts-expect-error send takes a handler name first
client.send({ text: 'hi' });
// @ts-expect-error the state is read-only
client.state = 'open';

export { state, first, delay, sent };
