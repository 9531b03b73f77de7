// examples/dashboard/dashboard.js: the orders table, kept fresh by invalidation messages, and the
// live session counts per channel.
import { postJson, startPage, timeElement } from '/app/site/site.js';
import { invalidate } from '/web/apigw-ws.js';

const STATUSES = ['new', 'paid', 'packed', 'shipped', 'cancelled'];
const $ = (id) => document.getElementById(id);
let me = null;

function cell(content) {
  const td = document.createElement('td');
  td.append(content);
  return td;
}

function renderRow(order) {
  const tr = document.createElement('tr');
  tr.id = `order-${order.id}`;
  const qty = Object.assign(document.createElement('input'), { type: 'number', min: 1, max: 999, value: order.quantity });
  qty.setAttribute('aria-label', `Quantity of order ${order.id}`);
  qty.onchange = () => save(order.id, { quantity: Number(qty.value) });
  const status = document.createElement('select');
  status.setAttribute('aria-label', `Status of order ${order.id}`);
  for (const s of STATUSES) status.append(new Option(s, s, false, s === order.status));
  status.onchange = () => save(order.id, { status: status.value });
  tr.append(cell(String(order.id)), cell(order.customer), cell(order.item), cell(qty), cell(status),
    cell(timeElement(order.updated_at)));
  return tr;
}

// upsert: replaces the row in place (flashing it) or appends it. Keyboard focus inside the old row
// moves to the same control of the new one, so a refresh never throws the user out of the table.
function upsert(order, flash) {
  const row = renderRow(order);
  const old = $(`order-${order.id}`);
  if (old) {
    const controls = [...old.querySelectorAll('input, select')];
    const focused = controls.indexOf(document.activeElement);
    old.replaceWith(row);
    if (focused >= 0) row.querySelectorAll('input, select')[focused].focus();
  } else {
    $('orders').append(row);
  }
  if (flash) row.classList.add('flash');
}

async function save(id, change) {
  const res = await postJson(`/api/orders/${id}`, change, me);
  $('save-error').textContent = res.ok ? '' : `Order ${id} not saved: ${res.data.error ?? res.status}`;
  if (res.ok) upsert(res.data, false);
}

function renderCounts(m) {
  const items = [['connected', m.connected], ...Object.entries(m.channels)];
  $('counts').replaceChildren(
    ...items.map(([name, n]) => {
      const s = document.createElement('span');
      s.dataset.channel = name;
      s.append(name, Object.assign(document.createElement('b'), { textContent: String(n) }));
      return s;
    }),
  );
}

startPage({
  channel: 'dashboard',
  async setup(client, who) {
    me = who;
    const { orders } = await fetch('/api/orders/', { credentials: 'same-origin' }).then((r) => r.json());
    orders.forEach((o) => upsert(o, false));
    renderCounts(await fetch('/api/session-counts/', { credentials: 'same-origin' }).then((r) => r.json()));
    invalidate(client, (resource, id, order) => resource === 'order' && upsert(order, true));
    client.on('session_counts', renderCounts);
  },
});
