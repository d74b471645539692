"""`{% path 'name' id… %}` and `{% static_path 'file' %}`: `{% url %}` and `{% static %}` for the pages
every member loads, each looked up once per process (chatsite.paths). Registered as the `paths`
library in the settings' TEMPLATES."""

from django import template

from chatsite.paths import path_to, static_path

register = template.Library()


@register.simple_tag(name="path")
def path(viewname: str, *args) -> str:
    """The path of a route, as `{% url viewname arg… %}` writes it (escaped by the tag)."""
    return path_to(viewname, *args)


@register.simple_tag(name="static_path")
def static_path_tag(name: str) -> str:
    """A static file's URL, as `{% static name %}` writes it (escaped by the tag)."""
    return static_path(name)
