"""Search: the results page and the JSON endpoint (docs/protocol.md, "Search").

Thin adapters like messaging.views: parse with SearchForm, pass a `conversation`
through the one gate (`access_conversation`: 404 for one the user cannot see), ask
search.selectors, render. The JSON endpoint answers errors as the history endpoint does.
"""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from chatsite.errors import Invalid
from chatsite.http import domain_errors, json_errors
from messaging.access import access_conversation
from messaging.serializers import conversation_title, message_json
from search import selectors
from search.forms import PAGE_SIZE, SearchForm
from search.highlight import highlight


def _page_url(data: dict, page: int) -> str:
    params = {"q": data["raw_q"]}
    if data["conversation"]:
        params["conversation"] = data["conversation"]
    if data["sort"] != selectors.NEWEST:
        params["sort"] = data["sort"]
    if page > 1:
        params["page"] = page
    return f"{reverse('search:page')}?{urlencode(params)}"


@require_GET
@login_required
@domain_errors
def search_page(request: HttpRequest) -> HttpResponse:
    """Results with the matched words marked, 20 a page; a hint for an empty search; 400 with the form."""
    form = SearchForm(request.GET)
    context = {"form": form, "raw_q": request.GET.get("q", ""), "conversation": None}
    if not form.is_valid():
        return render(request, "search/results.html", context, status=400)
    data = {**form.cleaned_data, "raw_q": context["raw_q"].strip()}
    if data["conversation"]:
        context["conversation"], _membership = access_conversation(request.user, data["conversation"])
    query = data["q"]
    if query.is_empty:
        return render(request, "search/results.html", context)
    page = data["page"]
    results, has_more = selectors.message_search(
        request.user,
        query,
        conversation_id=data["conversation"],
        sort=data["sort"],
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    for message in results:
        message.highlight = highlight(message.body, query)
        message.title = conversation_title(message.conversation, request.user)
    context.update(
        searched=True,
        results=results,
        page=page,
        sort=data["sort"],
        previous_url=_page_url(data, page - 1) if page > 1 else None,
        next_url=_page_url(data, page + 1) if has_more else None,
    )
    return render(request, "search/results.html", context)


def _result_json(message, query, viewer) -> dict:
    conversation = message.conversation
    group = conversation.group
    return {
        "message": message_json(message),
        "conversation": {
            "id": conversation.pk,
            "kind": conversation.kind,
            "name": conversation_title(conversation, viewer),
            "group": {"id": group.pk, "name": group.name} if group else None,
        },
        "highlight": str(highlight(message.body, query)),
    }


@require_GET
@json_errors
def search_messages(request: HttpRequest) -> JsonResponse:
    """`{"results": [{"message", "conversation", "highlight"}], "has_more": bool}`, newest or best first."""
    form = SearchForm(request.GET)
    if not form.is_valid():
        raise Invalid(form.first_error())
    data = form.cleaned_data
    if data["conversation"]:
        access_conversation(request.user, data["conversation"])
    query = data["q"]
    results, has_more = selectors.message_search(
        request.user,
        query,
        conversation_id=data["conversation"],
        sort=data["sort"],
        limit=data["limit"],
        offset=data["offset"],
    )
    selectors.load_for_json(results, request.user.pk)  # attachments, reactions, replies: a query only when any
    return JsonResponse({"results": [_result_json(m, query, request.user) for m in results], "has_more": has_more})
