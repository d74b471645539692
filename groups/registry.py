"""What the apps above groups attach to a group, without groups knowing them.

groups is a lower layer: messaging imports it, never the other way (accounts/registry.py
is the same pattern one layer down). What a group holds (its conversations) and how its
members' open sockets hear of changes belong to messaging, which fills these hooks in
its AppConfig.ready():

- `created(group, user_ids)`: a group was just created with these members (the owner
  first); messaging gives it its first conversation and tells their sockets.
- `joined(group, user_ids)`: users became members (added, joined, invited, staff).
- `leaving(group, user_ids)`: users are about to stop being members, or the group is
  about to be deleted: called before the rows go, in the same transaction.
- `landing_url(group)`: where a member lands in the group (its first conversation).
- `page_context(group, viewer)`: what the group page shows of the apps above (the
  group's conversations), merged into its template context.
"""

from collections.abc import Callable, Iterable
from typing import Any

_created: list[Callable[..., None]] = []
_joined: list[Callable[..., None]] = []
_leaving: list[Callable[..., None]] = []
_landing: list[Callable[[Any], str | None]] = []
_page_parts: list[Callable[[Any, Any], dict]] = []


def _add(hooks: list, func: Callable) -> None:
    if func not in hooks:
        hooks.append(func)


def on_created(func: Callable[..., None]) -> None:
    _add(_created, func)


def on_joined(func: Callable[..., None]) -> None:
    _add(_joined, func)


def on_leaving(func: Callable[..., None]) -> None:
    _add(_leaving, func)


def set_landing(func: Callable[[Any], str | None]) -> None:
    _landing[:] = [func]


def add_page_part(func: Callable[[Any, Any], dict]) -> None:
    _add(_page_parts, func)


def created(group, user_ids: Iterable[int]) -> None:
    user_ids = list(user_ids)
    for hook in _created:
        hook(group, user_ids)


def joined(group, user_ids: Iterable[int]) -> None:
    user_ids = list(user_ids)
    if user_ids:
        for hook in _joined:
            hook(group, user_ids)


def leaving(group, user_ids: Iterable[int]) -> None:
    user_ids = list(user_ids)
    if user_ids:
        for hook in _leaving:
            hook(group, user_ids)


def landing_url(group) -> str | None:
    return _landing[0](group) if _landing else None


def page_context(group, viewer) -> dict:
    context: dict = {}
    for part in _page_parts:
        context.update(part(group, viewer))
    return context
