"""The search parameters of the page and the JSON endpoint (docs/protocol.md, "Search")."""

from django import forms

from chatsite.errors import Invalid
from chatsite.numbers import MAX_ID, whole_number
from search import query as search_query
from search.selectors import NEWEST, SORTS

PAGE_SIZE = 20  # results per page of /search/
MAX_OFFSET = 1000  # the deepest result one can page to: a bound on the work of one request
MAX_LIMIT = 50


class WholeNumberField(forms.IntegerField):
    """A number in ASCII digits only, as every other endpoint reads one (chatsite/numbers.py): Django's
    IntegerField would also take " 1", "+1" or full-width digits."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = whole_number(value if isinstance(value, str) else str(value))
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class SearchForm(forms.Form):
    """`q` comes out parsed (a search.query.SearchQuery); blank parameters take their defaults."""

    q = forms.CharField(required=False, strip=True)
    conversation = WholeNumberField(required=False, min_value=1, max_value=MAX_ID)
    sort = forms.ChoiceField(required=False, choices=[(s, s) for s in SORTS])
    page = WholeNumberField(required=False, min_value=1, max_value=MAX_OFFSET // PAGE_SIZE + 1)
    limit = WholeNumberField(required=False, min_value=1, max_value=MAX_LIMIT)
    offset = WholeNumberField(required=False, min_value=0, max_value=MAX_OFFSET)

    def clean_q(self) -> search_query.SearchQuery:
        try:
            return search_query.parse(self.cleaned_data["q"])
        except Invalid as error:
            raise forms.ValidationError(error.detail, code="invalid") from None

    def clean(self):
        data = super().clean()
        data["sort"] = data.get("sort") or NEWEST
        data["page"] = data.get("page") or 1
        if data.get("limit") is None:
            data["limit"] = PAGE_SIZE
        if data.get("offset") is None:
            data["offset"] = 0
        return data

    def first_error(self) -> str:
        """`"<field>: <message>"` of the first error, for JSON answers."""
        name, errors = next(iter(self.errors.items()))
        return f"{name}: {errors[0]}" if name != "__all__" else errors[0]
