// examples/chat/chat.js: the chat page: one connection, rooms switched with chat_join messages.
import { startPage } from '/app/site/site.js';

const ROOMS = ['general', 'random', 'help'];
const $ = (id) => document.getElementById(id);
let room = null;

function addMessage(m) {
  const li = document.createElement('li');
  li.append(Object.assign(document.createElement('b'), { textContent: m.username }), m.message);
  $('messages').append(li);
  $('messages').scrollTop = $('messages').scrollHeight;
}

startPage({
  channel: 'chat',
  setup(client) {
    for (const name of ROOMS) {
      const b = Object.assign(document.createElement('button'), { className: 'secondary', textContent: `# ${name}` });
      b.dataset.room = name;
      b.onclick = () => client.send('chat_join', { room: name });
      $('rooms').append(b);
    }
    client.on('chat_joined', (m) => {
      room = m.room;
      $('room-title').textContent = `# ${room}`;
      $('messages').replaceChildren();
      $('chat-error').textContent = '';
      m.history.forEach(addMessage);
      for (const b of $('rooms').children) b.className = b.dataset.room === room ? 'here' : 'secondary';
    });
    client.on('chat_message', (m) => m.room === room && addMessage(m));
    client.on('chat_error', (m) => ($('chat-error').textContent = m.message));
    let presenceSeq = 0;
    client.on('presence', (m) => {
      if (m.room !== room || m.seq < presenceSeq) return; // an older snapshot arriving late
      presenceSeq = m.seq;
      $('presence').replaceChildren(...m.users.map((u) => Object.assign(document.createElement('li'), { textContent: u })));
    });
    // After every (re)connect: back into the room we were in (the new session starts in none).
    client.onState((s) => s === 'open' && client.send('chat_join', { room: room ?? 'general' }));
    $('say').onsubmit = (e) => {
      e.preventDefault();
      client.send('chat_say', { room, text: $('text').value });
      $('text').value = '';
    };
  },
});
