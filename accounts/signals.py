"""Account events other apps react to (the real-time layer closes sockets on them)."""

from django.dispatch import Signal

# Sent after a password change: kwargs user, keep_session_key (the session that stays).
password_changed = Signal()
