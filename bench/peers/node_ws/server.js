'use strict';
// Reference peer: a bare room broadcast server on the `ws` package.
//
// Speaks the same JSON frames as the chat server, minus auth and storage:
//   connect   ws://HOST:PORT/ws/?rooms=1,2      -> {"type": "hello", ...}
//   send      {"type": "message.send", "conversation": 1, "body": "...", "client_id": "..."}
//   receive   {"type": "message.ack", ...} (sender only), then
//             {"type": "message.new", "message": {...}} to every socket in the room.
//
// Usage: node server.js [PORT]   (or PORT / HOST environment variables)

const http = require('http');
const { WebSocketServer } = require('ws');

const port = parseInt(process.argv[2] || process.env.PORT || '8765', 10);
const host = process.env.HOST || '127.0.0.1';
const BACKLOG = 4096;

const rooms = new Map(); // room id -> { seq, members: Set<WebSocket> }
let nextUserId = 1;
let nextMessageId = 1;

function room(id) {
  let r = rooms.get(id);
  if (r === undefined) {
    r = { seq: 0, members: new Set() };
    rooms.set(id, r);
  }
  return r;
}

function parseRooms(value) {
  const ids = new Set();
  for (const part of (value || '').split(',')) {
    const id = Number(part);
    if (Number.isInteger(id) && id > 0) ids.add(id);
  }
  return [...ids];
}

function sendError(ws, code, clientId) {
  ws.send(JSON.stringify({ type: 'error', code, client_id: clientId === undefined ? null : clientId }));
}

const server = http.createServer((req, res) => {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found\n');
});

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });

server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://peer');
  if (url.pathname !== '/ws/') {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, parseRooms(url.searchParams.get('rooms'))));
});

function onConnection(ws, roomIds) {
  const id = nextUserId++;
  const user = { id, username: `peer${id}`, display_name: `Peer ${id}` };
  const joined = new Set(roomIds);
  for (const rid of joined) room(rid).members.add(ws);

  ws.send(
    JSON.stringify({
      type: 'hello',
      user,
      conversations: roomIds.map((rid) => ({ id: rid, last_seq: room(rid).seq, unread: 0 })),
    }),
  );

  ws.on('message', (data, isBinary) => {
    let frame;
    try {
      frame = JSON.parse(isBinary ? data : data.toString('utf8'));
    } catch {
      sendError(ws, 'bad_json');
      return;
    }
    if (frame === null || frame.type !== 'message.send') {
      sendError(ws, 'unknown_type', frame && frame.client_id);
      return;
    }
    const rid = frame.conversation;
    if (!joined.has(rid) || typeof frame.body !== 'string') {
      sendError(ws, 'forbidden', frame.client_id);
      return;
    }
    const r = room(rid);
    r.seq += 1;
    const message = {
      id: nextMessageId++,
      seq: r.seq,
      conversation: rid,
      author: user,
      body: frame.body,
      client_id: frame.client_id,
      created_at: new Date().toISOString(),
      edited_at: null,
      deleted: false,
    };
    ws.send(JSON.stringify({ type: 'message.ack', client_id: frame.client_id, message }));
    const out = Buffer.from(JSON.stringify({ type: 'message.new', message }));
    for (const member of r.members) {
      if (member.readyState === member.OPEN) member.send(out, { binary: false });
    }
  });

  ws.on('close', () => {
    for (const rid of joined) {
      const r = rooms.get(rid);
      if (r !== undefined) r.members.delete(ws);
    }
  });
  ws.on('error', () => {});
}

server.listen(port, host, BACKLOG, () => {
  console.log(`node_ws peer listening on ws://${host}:${port}/ws/ (pid ${process.pid})`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    for (const ws of wss.clients) ws.terminate();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
