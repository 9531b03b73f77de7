// examples/chat/chat.js: the chat page: one connection, rooms switched with chat_join messages.
// Lengths are counted in code points, as the backend counts them; the limit comes with chat_joined.
import { codePoints, startPage, timeElement } from '/app/site/site.js';

const ROOMS = ['general', 'random', 'help'];
const $ = (id) => document.getElementById(id);
let room = null;
let maxText = 500; // replaced by the backend's limit on every chat_joined
const shown = new Set(); // ids of the room's messages on the page

function showError(text) {
  $('chat-error').textContent = text;
}

function updateEmpty() {
  $('messages-empty').hidden = $('messages').children.length > 0;
}

function addMessage(m) {
  if (m.id) shown.add(m.id);
  const li = document.createElement('li');
  if (m.sent_at) li.append(timeElement(m.sent_at, 'time'));
  li.append(Object.assign(document.createElement('b'), { textContent: m.username }), m.message);
  $('messages').append(li);
  $('messages').scrollTop = $('messages').scrollHeight;
  updateEmpty();
}

// updateCount: "n / limit" under the input while typing; over the limit it turns red (sending
// then shows the error instead of sending).
function updateCount() {
  const n = codePoints($('text').value);
  const over = n > maxText;
  $('text-count').textContent = n === 0 ? `Up to ${maxText} characters` : `${n} / ${maxText}`;
  $('text-count').classList.toggle('over', over);
  $('text').setAttribute('aria-invalid', String(over));
}

startPage({
  channel: 'chat',
  setup(client, me) {
    for (const name of ROOMS) {
      const b = Object.assign(document.createElement('button'), { type: 'button', className: 'secondary', textContent: `# ${name}` });
      b.dataset.room = name;
      b.onclick = () => client.send('chat_join', { room: name });
      $('rooms').append(b);
    }
    updateCount();
    client.on('chat_joined', (m) => {
      room = m.room;
      if (Number.isInteger(m.max_text)) maxText = m.max_text;
      $('room-title').textContent = `# ${room}`;
      $('messages').replaceChildren();
      shown.clear();
      showError('');
      m.history.forEach(addMessage);
      updateEmpty();
      updateCount();
      for (const b of $('rooms').children) {
        b.className = b.dataset.room === room ? 'here' : 'secondary';
        b.setAttribute('aria-pressed', String(b.dataset.room === room));
      }
    });
    client.on('chat_message', (m) => {
      if (m.room !== room) return;
      // Already shown: it was in the join's history and recovered after the reconnect too.
      if (m.id && shown.has(m.id)) return;
      addMessage(m);
      // Our own message got through: an error about an earlier one is stale now.
      if (m.username === me.username) showError('');
    });
    client.on('chat_error', (m) => showError(m.message));
    let presenceSeq = 0;
    client.on('presence', (m) => {
      if (m.room !== room || m.seq < presenceSeq) return; // an older snapshot arriving late
      presenceSeq = m.seq;
      $('presence').replaceChildren(...m.users.map((u) => Object.assign(document.createElement('li'), { textContent: u })));
    });
    // After every (re)connect: back into the room we were in (the new session starts in none).
    client.onState((s) => s === 'open' && client.send('chat_join', { room: room ?? 'general' }));
    $('text').oninput = updateCount;
    $('say').onsubmit = (e) => {
      e.preventDefault();
      const text = $('text').value;
      // The backend checks the same and answers chat_error; refusing here keeps the text to edit.
      if (codePoints(text) > maxText) {
        showError(`Message is longer than ${maxText} characters`);
        return;
      }
      showError('');
      client.send('chat_say', { room, text });
      $('text').value = '';
      updateCount();
    };
  },
});
