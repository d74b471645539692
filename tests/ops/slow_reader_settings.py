"""Production settings with the per-user message rate and the per-socket frame rate lifted, for the
slow-reader test's flood. Every other limit, the per-socket backlog bound included, keeps its
production value."""

from chatsite.settings import *  # noqa: F403

MESSAGE_RATE_LIMIT = 1_000_000
WS_FRAME_RATE = 1_000_000.0
WS_FRAME_BURST = 1_000_000
