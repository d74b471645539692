"""Staff tools: find conversations and abusive messages, and remove them.

Deleting a message here works like the "Delete" button in the chat: the text is
erased and the row stays, so the conversation keeps its gap-free seqs and open
clients are told (`message.deleted`).
"""

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator

from messaging import services
from messaging.models import Conversation, Message, ReadState


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "name", "group", "user_low", "user_high", "last_seq", "last_message_at")
    list_filter = ("kind",)
    list_select_related = ("group", "user_low", "user_high")
    search_fields = ("name", "group__name", "user_low__username", "user_high__username")
    # Who may see a conversation follows from these; changing them here would bypass the services
    # that tell open sockets, so they are shown, not edited. Conversations are created in the chat.
    readonly_fields = ("kind", "group", "user_low", "user_high", "created_at", "last_seq", "last_message_at")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@transaction.atomic
def _erase(messages: QuerySet[Message]) -> int:
    """Soft-delete messages the way the app does, and tell open clients."""
    return services.message_erase(messages)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("conversation", "seq", "author", "short_body", "created_at", "edited_at", "deleted")
    list_filter = ("conversation__kind", "created_at", "deleted")
    list_select_related = ("conversation", "author")
    search_fields = ("body", "author__username")
    raw_id_fields = ("conversation", "author")
    readonly_fields = ("conversation", "seq", "author", "body", "created_at", "edited_at", "deleted", "client_id")
    date_hierarchy = "created_at"
    actions = ("erase_messages",)

    @admin.display(description="body")
    def short_body(self, message: Message) -> str:
        return Truncator(message.body).chars(80) if not message.deleted else "(deleted)"

    @admin.action(description="Delete the text of the selected messages (they keep their place)")
    def erase_messages(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        count = _erase(queryset)
        self.message_user(request, f"Deleted {count} message(s).")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # messages are written by members, through the chat

    def delete_model(self, request: HttpRequest, obj: Message) -> None:
        _erase(Message.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        _erase(queryset)


@admin.register(ReadState)
class ReadStateAdmin(admin.ModelAdmin):
    list_display = ("user", "conversation", "last_read_seq", "updated_at")
    list_select_related = ("user", "conversation")
    search_fields = ("user__username",)
    readonly_fields = ("user", "conversation", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # read markers are moved by reading
