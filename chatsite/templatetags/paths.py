"""`{% path 'name' id… %}`: `{% url %}` for the pages every member loads, the route reversed once per
process (chatsite.paths.path_to). Registered as the `paths` library in the settings' TEMPLATES."""

from django import template

from chatsite.paths import path_to

register = template.Library()


@register.simple_tag(name="path")
def path(viewname: str, *args) -> str:
    """The path of a route, as `{% url viewname arg… %}` writes it (escaped by the tag)."""
    return path_to(viewname, *args)
