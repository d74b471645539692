"""What the apps above accounts hold about an account, without accounts knowing them.

accounts is a lower layer: groups and messaging import it, never the other way. The
account data rights (export, deletion) still have to cover what those apps store, so
they register here, in their AppConfig.ready(), and accounts composes:

- `export_section(name, read)`: a key of the data export, `read(user)` giving its JSON
  value; `export_stream(name, pages)`: the one key that streams, `pages(user)` giving
  lists of items (the messages: a long history is never held in memory).
- `on_create(func)`: `func(user)` runs in the new account's transaction (joining the
  operator's default groups).
- `settings_panel(template, read)`: a section of the settings page, `template` rendered with
  `panel` = `read(user)` (the storage a user's files take).
- `on_profile_change(func)`: `func(user)` runs in the transaction that changed what other
  people see of the user (the display name): messaging tells open pages (`user.updated`).
- `on_delete(func)`: `func(user, delete_messages=...)` runs inside the deletion's
  transaction, before the account row goes, in registration order (INSTALLED_APPS
  order: groups hand over ownership before messaging removes conversations).
"""

from collections.abc import Callable, Iterator
from typing import Any

_sections: list[tuple[str, Callable[[Any], Any]]] = []
_stream: tuple[str, Callable[[Any], Iterator[list[Any]]]] | None = None
_deleters: list[Callable[..., None]] = []
_creators: list[Callable[..., None]] = []
_panels: list[tuple[str, Callable[[Any], dict]]] = []
_profile_listeners: list[Callable[[Any], None]] = []


def export_section(name: str, read: Callable[[Any], Any]) -> None:
    if name not in [n for n, _ in _sections]:
        _sections.append((name, read))


def export_stream(name: str, pages: Callable[[Any], Iterator[list[Any]]]) -> None:
    global _stream
    assert _stream is None or _stream[0] == name, "one streamed section: it comes last in the document"
    _stream = (name, pages)


def on_delete(func: Callable[..., None]) -> None:
    if func not in _deleters:
        _deleters.append(func)


def on_create(func: Callable[..., None]) -> None:
    if func not in _creators:
        _creators.append(func)


def creators() -> list[Callable[..., None]]:
    return list(_creators)


def sections() -> list[tuple[str, Callable[[Any], Any]]]:
    return list(_sections)


def stream() -> tuple[str, Callable[[Any], Iterator[list[Any]]]] | None:
    return _stream


def deleters() -> list[Callable[..., None]]:
    return list(_deleters)


def settings_panel(template: str, read: Callable[[Any], dict]) -> None:
    if template not in [t for t, _ in _panels]:
        _panels.append((template, read))


def settings_panels() -> list[tuple[str, Callable[[Any], dict]]]:
    return list(_panels)


def on_profile_change(func: Callable[[Any], None]) -> None:
    if func not in _profile_listeners:
        _profile_listeners.append(func)


def profile_listeners() -> list[Callable[[Any], None]]:
    return list(_profile_listeners)
