// One WebSocket per tab: connection, jittered backoff, sync cursors, de-duplication
// and in-order delivery, the outbox of unacknowledged sends, and frame dispatch.
//
// Listeners subscribe with `socket.on(type, fn)`. Frame types are dispatched as they
// arrive, except `message.new` and `message.ack`, whose messages go through the
// per-conversation cursor first and come out as "message" events: exactly once per
// (conversation, seq), in seq order. Extra events: "status" ("connecting",
// "connected", "reconnecting", "closed"), "hello", "ack", "send.error".

import { uuid } from "./dom.js";
import { paths } from "./urls.js";

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30000;
const HELLO_TIMEOUT_MS = 10000;
const MAX_HOLE_SYNCS = 3;
const SYNC_TIMEOUT_MS = 15000;
// Cursors per sync frame: keeps the frame well under the server's 16 KiB limit; the rest follow.
const MAX_SYNC_CURSORS = 400;
// Close codes of messaging/protocol.py.
const CLOSE_SESSION_ENDED = 4001; // signed out: reconnecting cannot help
const CLOSE_ABUSE = 4008; // too many bad frames: wait long before trying again
const ABUSE_BACKOFF_ATTEMPT = 6; // start the backoff at about 30 s

export class ChatSocket {
  /**
   * @param {object} options
   * @param {string} [options.url] defaults to ws(s)://<this host><body data-socket-url>
   * @param {Object<string, number>} [options.cursors] last seq seen per conversation (from the page)
   * @param {number} [options.backoffBaseMs] first reconnect delay ceiling
   * @param {number} [options.backoffMaxMs] largest reconnect delay
   */
  constructor({ url, cursors = {}, backoffBaseMs = BACKOFF_BASE_MS, backoffMaxMs = BACKOFF_MAX_MS } = {}) {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    this.url = url || `${scheme}//${window.location.host}${paths.socket()}`;
    this.backoffBaseMs = backoffBaseMs;
    this.backoffMaxMs = backoffMaxMs;
    this.ws = null;
    this.ready = false; // open and `hello` received
    this.user = null;
    this.status = null; // "connecting", "connected", "reconnecting" or "closed"
    this.attempt = 0;
    this.retryTimer = null;
    this.helloTimer = null;
    this.stopped = false;
    this.listeners = new Map();
    // Highest seq delivered without a hole, per conversation id.
    this.cursors = new Map();
    for (const [id, seq] of Object.entries(cursors)) this.cursors.set(Number(id), Number(seq) || 0);
    this.pageConversations = Object.keys(cursors).map(Number); // the conversation(s) the page shows
    // Messages that arrived ahead of a hole: conversation id -> Map(seq -> message).
    this.ahead = new Map();
    // Conversations the user lost: late frames about them are dropped.
    this.removed = new Set();
    this.syncing = null; // conversation ids of the sync in flight, or null
    this.syncWanted = new Set(); // conversation ids waiting for the next sync
    this.holes = new Map(); // conversation id -> {cursor, tries}: syncs that left a hole
    this.syncTimer = null;
    // Sends not yet acknowledged, in the order they were made: client_id -> {conversation, body}.
    this.outbox = new Map();

    window.addEventListener("online", () => this.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.reconnectNow();
    });
  }

  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push(fn);
  }

  emit(type, payload) {
    for (const fn of this.listeners.get(type) || []) {
      try {
        fn(payload);
      } catch (error) {
        console.error(`chat: ${type} listener failed`, error);
      }
    }
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    document.documentElement.dataset.socket = status;
    this.emit("status", status);
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (error) {
      console.error("chat: cannot open the socket", error);
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    if (this.status !== "reconnecting") this.setStatus("connecting");
    ws.addEventListener("open", () => {
      // A socket that opens but never says hello is as good as closed.
      this.helloTimer = setTimeout(() => ws.close(4000, "no hello"), HELLO_TIMEOUT_MS);
    });
    ws.addEventListener("message", (event) => {
      if (ws !== this.ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame && typeof frame.type === "string") this.dispatch(frame);
    });
    ws.addEventListener("close", (event) => {
      if (ws !== this.ws) return;
      clearTimeout(this.helloTimer);
      this.ws = null;
      this.ready = false;
      this.syncing = null;
      if (event.code === CLOSE_SESSION_ENDED) {
        this.stopped = true;
        this.setStatus("closed");
        return;
      }
      if (event.code === CLOSE_ABUSE) this.attempt = Math.max(this.attempt, ABUSE_BACKOFF_ATTEMPT);
      this.setStatus("reconnecting");
      this.scheduleReconnect();
    });
  }

  /** Full jitter: a random wait between half and all of the capped exponential delay. */
  scheduleReconnect() {
    if (this.stopped || this.retryTimer) return;
    const ceiling = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** this.attempt);
    this.attempt += 1;
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  /** Skip the rest of the backoff wait (the network came back, the tab became visible). */
  reconnectNow() {
    if (this.stopped || this.ws || !this.retryTimer) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.connect();
  }

  /** Send a frame now; false when the socket is not ready. */
  send(frame) {
    if (!this.ready || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Queue a message; sent now if connected, and again (same client_id) after every reconnect until acked. */
  /** `replyTo`: the seq this message answers (or null); `attachments`: ids of files uploaded for it
   * (static/js/attachments.js), or none. */
  sendMessage(conversation, body, replyTo = null, attachments = []) {
    const clientId = uuid();
    const frame = sendFrame(conversation, body, clientId, attachments);
    if (replyTo) frame.reply_to = replyTo;
    this.outbox.set(clientId, frame);
    this.send(frame);
    return clientId;
  }

  /** Give up on a send that failed (the caller shows why). */
  discard(clientId) {
    this.outbox.delete(clientId);
  }

  lastSeq(conversation) {
    return this.cursors.get(conversation) || 0;
  }

  dispatch(frame) {
    switch (frame.type) {
      case "hello":
        return this.onHello(frame);
      case "message.new":
        return this.accept(frame.message);
      case "message.ack":
        return this.onAck(frame);
      case "sync.done":
        return this.onSyncDone(frame);
      case "conversation.added":
        return this.onAdded(frame);
      case "conversation.removed":
        return this.forget(frame.conversation, frame);
      case "error":
        return this.onError(frame);
      default:
        return this.emit(frame.type, frame);
    }
  }

  onHello(frame) {
    clearTimeout(this.helloTimer);
    this.user = frame.user;
    this.ready = true;
    this.attempt = 0;
    const visible = new Set();
    const behind = [];
    for (const conversation of frame.conversations || []) {
      visible.add(conversation.id);
      this.removed.delete(conversation.id);
      if (!this.cursors.has(conversation.id)) this.cursors.set(conversation.id, conversation.last_seq);
      // Only conversations with news since our cursor need a sync.
      if (this.cursors.get(conversation.id) < conversation.last_seq) behind.push(conversation.id);
    }
    this.setStatus("connected");
    this.emit("hello", frame);
    // Conversations lost while away: tell the page as if the frame had come.
    for (const id of Array.from(this.cursors.keys())) {
      if (!visible.has(id)) this.forget(id, { type: "conversation.removed", conversation: id });
    }
    this.syncing = null;
    this.syncWanted.clear();
    // Every (re)connect syncs the conversation on screen, and any other hello says moved on.
    this.requestSync([...this.pageConversations, ...behind, ...this.ahead.keys()]);
    for (const frame of this.outbox.values()) this.send(frame);
  }

  onAck(frame) {
    this.outbox.delete(frame.client_id);
    this.emit("ack", frame);
    if (frame.message) this.accept(frame.message);
  }

  onAdded(frame) {
    const conversation = frame.conversation;
    if (conversation) this.removed.delete(conversation.id);
    if (conversation && !this.cursors.has(conversation.id)) this.cursors.set(conversation.id, conversation.last_seq);
    this.emit("conversation.added", frame);
  }

  onError(frame) {
    if (frame.client_id && this.outbox.has(frame.client_id)) {
      this.outbox.delete(frame.client_id);
      this.emit("send.error", frame);
      return;
    }
    this.emit("error", frame);
  }

  /** Stop tracking a conversation the user no longer sees. */
  forget(id, frame) {
    this.removed.add(id);
    this.cursors.delete(id);
    this.ahead.delete(id);
    this.holes.delete(id);
    this.syncWanted.delete(id);
    for (const [clientId, entry] of this.outbox) {
      if (entry.conversation === id) this.outbox.delete(clientId);
    }
    this.emit("conversation.removed", frame);
  }

  /** Deliver a message once and in order; a hole in seq is filled with `sync`. */
  accept(message) {
    if (!message || typeof message.seq !== "number") return;
    const id = message.conversation;
    if (this.removed.has(id)) return;
    if (!this.cursors.has(id)) this.cursors.set(id, message.seq - 1); // news of a conversation before its `added`
    const cursor = this.cursors.get(id);
    if (message.seq <= cursor) return;
    if (message.seq > cursor + 1) {
      if (!this.ahead.has(id)) this.ahead.set(id, new Map());
      this.ahead.get(id).set(message.seq, message);
      this.requestSync([id]);
      return;
    }
    this.deliver(message);
    this.drain(id);
  }

  deliver(message) {
    this.cursors.set(message.conversation, message.seq);
    this.emit("message", message);
  }

  /** Deliver what was waiting behind a hole that is now filled. */
  drain(id) {
    const waiting = this.ahead.get(id);
    if (!waiting) return;
    let next = waiting.get(this.cursors.get(id) + 1);
    while (next) {
      waiting.delete(next.seq);
      this.deliver(next);
      next = waiting.get(this.cursors.get(id) + 1);
    }
    for (const seq of waiting.keys()) if (seq <= this.cursors.get(id)) waiting.delete(seq);
    if (waiting.size === 0) this.ahead.delete(id);
  }

  /** Ask for everything after our cursors; one sync in flight at a time. */
  requestSync(ids) {
    for (const id of ids) this.syncWanted.add(id);
    if (this.syncing || !this.ready || this.syncWanted.size === 0) return;
    const cursors = {};
    this.syncing = new Set();
    for (const id of this.syncWanted) {
      if (this.syncing.size >= MAX_SYNC_CURSORS) break;
      this.syncWanted.delete(id);
      if (!this.cursors.has(id)) continue;
      cursors[String(id)] = this.cursors.get(id);
      this.syncing.add(id);
    }
    if (Object.keys(cursors).length === 0 || !this.send({ type: "sync", cursors })) {
      this.syncing = null;
      return;
    }
    // An unanswered sync (refused, lost) must not block the next one forever.
    const pending = this.syncing;
    clearTimeout(this.syncTimer);
    this.syncTimer = setTimeout(() => {
      if (this.syncing !== pending) return;
      this.syncing = null;
      this.requestSync(Array.from(pending));
    }, SYNC_TIMEOUT_MS);
  }

  onSyncDone(frame) {
    const asked = this.syncing || new Set();
    clearTimeout(this.syncTimer);
    this.syncing = null;
    if (!frame.complete) {
      this.requestSync(Array.from(asked));
      return;
    }
    for (const id of asked) this.checkHole(id);
    this.emit("sync.done", frame);
    this.requestSync([]);
  }

  /**
   * After a complete sync, a hole may remain because its message is still on its
   * way live: ask again. If the same hole survives a few syncs the server has
   * nothing there, so deliver what waits rather than hold it back forever.
   */
  checkHole(id) {
    const waiting = this.ahead.get(id);
    if (!waiting) {
      this.holes.delete(id);
      return;
    }
    const cursor = this.cursors.get(id);
    const hole = this.holes.get(id);
    const tries = hole && hole.cursor === cursor ? hole.tries + 1 : 1;
    if (tries < MAX_HOLE_SYNCS) {
      this.holes.set(id, { cursor, tries });
      this.syncWanted.add(id);
      return;
    }
    this.holes.delete(id);
    this.ahead.delete(id);
    for (const seq of Array.from(waiting.keys()).sort((a, b) => a - b)) {
      if (seq > this.cursors.get(id)) this.deliver(waiting.get(seq));
    }
  }
}

function sendFrame(conversation, body, clientId, attachments) {
  const frame = { type: "message.send", conversation, body, client_id: clientId };
  if (attachments && attachments.length) frame.attachments = attachments;
  return frame;
}
