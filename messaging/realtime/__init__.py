"""The chat socket at /ws/, one module per concern (docs/protocol.md, "WebSocket").

Read from the top down; each module imports only those below it:

- `consumer`: `ChatConsumer`, the frame and event handlers and nothing else. A
  client frame is validated (`frames`), handed to one service or selector in a
  worker thread (`workers`), and answered; layer events are forwarded.
- `loop`: `LeanConsumer`, the connection loop `ChatConsumer` runs on: Channels'
  consumer loop made lighter, with a bounded queue for a slow reader and clean-up
  that always runs.
- `heartbeat`: one task per process that keeps its sockets counted as online and
  re-checks their access (accounts, sessions, conversations) every
  REVOCATION_RECHECK_SECONDS.
- `counters`: each socket's unread counters and the rule that keeps them exact.
- `frames`: parsing and validating client frames; the handler table.
- `presence`, `limits`: who is online across processes; per-socket and per-user limits.
- `auth`: the ASGI middleware that finds the session and user of a handshake.
- `selectors`: the reads only the socket needs (connect, sync, re-checks).
- `workers`: the thread pool socket work runs on, and outage logging.
"""
