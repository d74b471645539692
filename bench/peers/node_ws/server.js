'use strict';
// Reference peer: a bare room broadcast server on the `ws` package.
//
// Speaks the same JSON frames as the chat server, minus auth and storage:
//   connect   ws://HOST:PORT/ws/?rooms=1,2      -> {"type": "hello", ...}
//   send      {"type": "message.send", "conversation": 1, "body": "...", "client_id": "..."}
//   receive   {"type": "message.ack", ...} (sender only), then
//             {"type": "message.new", "message": {...}} to every socket in the room.
//
// Usage: node server.js [PORT] [--pg]   (or PORT / HOST environment variables)
//
// --pg: the chat's own stack done straightforwardly. Every message is stored before it is acked, in one
// transaction on a pool of 10 node-postgres connections with synchronous_commit on: the room's seq comes from
// its row (UPDATE ... RETURNING, which also serializes the room's writers), then the message row is inserted.
// Tables peer_room / peer_message are created if missing in the database named by PG_URL (or DATABASE_URL).

const http = require('http');
const { WebSocketServer } = require('ws');

const args = process.argv.slice(2);
const usePg = args.includes('--pg');
const positional = args.filter((a) => !a.startsWith('--'));
const port = parseInt(positional[0] || process.env.PORT || '8765', 10);
const host = process.env.HOST || '127.0.0.1';
const BACKLOG = 4096;
const PG_POOL_SIZE = 10;

// room id -> { seq: last seq broadcast, members: Set<WebSocket>, pending: Map<seq, Buffer> (--pg only) }
const rooms = new Map();
let nextUserId = 1;
let nextMessageId = 1;

function room(id) {
  let r = rooms.get(id);
  if (r === undefined) {
    r = { seq: 0, members: new Set(), pending: new Map() };
    rooms.set(id, r);
  }
  return r;
}

// ------------------------------------------------------------------------------------------ PostgreSQL

let pool = null;
const roomLoads = new Map(); // room id -> Promise that resolves once its row exists and its seq is known

const SCHEMA = `
CREATE TABLE IF NOT EXISTS peer_room (id integer PRIMARY KEY, seq bigint NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS peer_message (
  id bigserial PRIMARY KEY,
  room_id integer NOT NULL REFERENCES peer_room (id),
  seq bigint NOT NULL,
  author_id integer NOT NULL,
  body text NOT NULL,
  client_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (room_id, seq)
);`;

async function pgStart() {
  const { Pool } = require('pg');
  const connectionString = process.env.PG_URL || process.env.DATABASE_URL;
  if (!connectionString) throw new Error('--pg needs PG_URL or DATABASE_URL');
  pool = new Pool({ connectionString, max: PG_POOL_SIZE });
  // Durable acks: never rely on the server default, say it.
  pool.on('connect', (client) => client.query('SET synchronous_commit TO on'));
  pool.on('error', (err) => console.error('pg pool error', err.message));
  await pool.query(SCHEMA);
}

// Make sure the rooms' rows exist and their in-memory seq matches the table (once per room).
function loadRooms(ids) {
  const missing = ids.filter((rid) => !roomLoads.has(rid));
  if (missing.length > 0) {
    const loading = pool
      .query('INSERT INTO peer_room (id) SELECT unnest($1::int[]) ON CONFLICT (id) DO NOTHING', [missing])
      .then(() => pool.query('SELECT id, seq FROM peer_room WHERE id = ANY($1::int[])', [missing]))
      .then((res) => {
        for (const row of res.rows) room(row.id).seq = Number(row.seq);
      });
    for (const rid of missing) roomLoads.set(rid, loading);
  }
  return Promise.all(ids.map((rid) => roomLoads.get(rid)));
}

// One transaction per message: seq from the room's row, then the message row; resolves after COMMIT.
async function storeMessage(rid, authorId, body, clientId) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const bumped = await client.query('UPDATE peer_room SET seq = seq + 1 WHERE id = $1 RETURNING seq', [rid]);
    const seq = Number(bumped.rows[0].seq);
    const inserted = await client.query(
      'INSERT INTO peer_message (room_id, seq, author_id, body, client_id) VALUES ($1, $2, $3, $4, $5) ' +
        'RETURNING id, created_at',
      [rid, seq, authorId, body, clientId],
    );
    await client.query('COMMIT');
    return { id: Number(inserted.rows[0].id), seq, createdAt: inserted.rows[0].created_at };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

// Commits of one room finish in seq order, but their callbacks may run in any order: broadcast in seq order.
function broadcastInOrder(r, seq, out) {
  r.pending.set(seq, out);
  while (r.pending.has(r.seq + 1)) {
    r.seq += 1;
    const frame = r.pending.get(r.seq);
    r.pending.delete(r.seq);
    for (const member of r.members) {
      if (member.readyState === member.OPEN) member.send(frame, { binary: false });
    }
  }
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
  ws.on('error', () => {});
  ws.on('close', () => {
    for (const rid of joined) {
      const r = rooms.get(rid);
      if (r !== undefined) r.members.delete(ws);
    }
  });

  const hello = () =>
    ws.send(
      JSON.stringify({
        type: 'hello',
        user,
        conversations: roomIds.map((rid) => ({ id: rid, last_seq: room(rid).seq, unread: 0 })),
      }),
    );
  if (usePg) {
    // Frames that arrive before hello (clients wait for it) are handled after the rooms are loaded.
    const ready = loadRooms(roomIds).then(hello, (err) => {
      console.error('room load failed', err.message);
      ws.close(1011);
    });
    ws.on('message', (data, isBinary) => ready.then(() => onFrame(ws, user, joined, data, isBinary)));
    return;
  }
  hello();
  ws.on('message', (data, isBinary) => onFrame(ws, user, joined, data, isBinary));
}

function onFrame(ws, user, joined, data, isBinary) {
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
  if (usePg) {
    storeMessage(rid, user.id, frame.body, frame.client_id).then(
      (stored) => {
        const message = {
          id: stored.id,
          seq: stored.seq,
          conversation: rid,
          author: user,
          body: frame.body,
          client_id: frame.client_id,
          created_at: stored.createdAt.toISOString(),
          edited_at: null,
          deleted: false,
        };
        if (ws.readyState === ws.OPEN) {
          ws.send(JSON.stringify({ type: 'message.ack', client_id: frame.client_id, message }));
        }
        broadcastInOrder(r, stored.seq, Buffer.from(JSON.stringify({ type: 'message.new', message })));
      },
      (err) => {
        console.error('store failed', err.message);
        if (ws.readyState === ws.OPEN) sendError(ws, 'store_failed', frame.client_id);
      },
    );
    return;
  }
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
}

async function main() {
  if (usePg) await pgStart();
  server.listen(port, host, BACKLOG, () => {
    const mode = usePg ? ' with PostgreSQL' : '';
    console.log(`node_ws peer${mode} listening on ws://${host}:${port}/ws/ (pid ${process.pid})`);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    for (const ws of wss.clients) ws.terminate();
    server.close(() => (pool ? pool.end() : Promise.resolve()).then(() => process.exit(0)));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
