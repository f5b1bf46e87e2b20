from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone

from analytics.health import pipeline_health_get
from analytics.models import (
    ArtistStats,
    Block,
    BlockKind,
    Event,
    FilteredHour,
    FollowEvent,
    FollowState,
    IngestKey,
    LikeState,
    PipelineHealth,
    PoisonEvent,
    ReconcileRun,
    TrackHour,
    TrackStats,
    UserAgent,
)
from analytics.services.integrity import lists_changed
from mvsic.admin_scope import ArtistScopedAdmin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Raw pipeline data is written by workers only; admins look, they never edit or delete
    (deleting an event would remove its dedupe key, and a redelivery would count again)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TrackDataAdmin(ReadOnlyAdmin, ArtistScopedAdmin):
    """A track's events and figures: staff see those of their own artists only."""

    artist_path = "track__artist"


def _block(request, events, kind: str, field: str) -> None:
    values = {v for v in events.values_list(field, flat=True) if v}
    for value in values:
        Block.objects.get_or_create(kind=kind, value=value, defaults={"note": "from events"})
    lists_changed()
    messages.success(request, f"Blocked {len(values)} {kind}(s); run reconcile_counts --fix "
                     "to filter their stored events too.")  # fmt: skip


@admin.register(Event)
class EventAdmin(TrackDataAdmin):
    list_display = ["id", "type", "track", "listener", "ts", "source", "reason", "address"]
    list_filter = ["type", "reason", "source", ("track__artist", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=id", "listener", "=address", "track__title"]
    date_hierarchy = "ts"
    list_select_related = ["track"]
    show_full_result_count = False
    actions = ["block_listeners", "block_addresses"]

    @admin.action(description="Block the listeners of the selected events", permissions=["block"])
    def block_listeners(self, request, queryset):
        _block(request, queryset, BlockKind.LISTENER, "listener")

    @admin.action(description="Block the address hashes of these events", permissions=["block"])
    def block_addresses(self, request, queryset):
        _block(request, queryset, BlockKind.ADDRESS, "address")

    def has_block_permission(self, request):
        return request.user.has_perm("analytics.add_block")


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    """Events of a blocked listener or address hash are filtered as `blocked` from now on;
    `reconcile_counts --fix` applies a block to events already stored."""

    list_display = ["kind", "value", "note", "created_at"]
    list_filter = ["kind"]
    search_fields = ["=value", "note"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        lists_changed()


@admin.register(IngestKey)
class IngestKeyAdmin(ReadOnlyAdmin):
    """Keys are created with `manage.py ingest_key create NAME` (printed once)."""

    list_display = ["name", "prefix", "created_at", "revoked_at"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected keys", permissions=["revoke"])
    def revoke(self, request, queryset):
        revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        messages.success(request, f"Revoked {revoked} key(s).")

    def has_revoke_permission(self, request):
        return request.user.has_perm("analytics.change_ingestkey")


@admin.register(UserAgent)
class UserAgentAdmin(ReadOnlyAdmin):
    list_display = ["text", "bot"]
    list_filter = ["bot"]
    search_fields = ["text"]


@admin.register(FilteredHour)
class FilteredHourAdmin(TrackDataAdmin):
    list_display = ["track", "hour", "reason", "events"]
    list_filter = ["reason", ("track__artist", admin.RelatedOnlyFieldListFilter)]
    date_hierarchy = "hour"
    list_select_related = ["track"]


@admin.register(TrackStats)
class TrackStatsAdmin(TrackDataAdmin):
    list_display = ["track", "plays", "likes", "listeners", "updated_at"]
    list_filter = [("track__artist", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["track__title", "track__artist__name"]
    list_select_related = ["track__artist"]
    ordering = ["-plays"]


@admin.register(ArtistStats)
class ArtistStatsAdmin(TrackDataAdmin):
    artist_path = "artist"

    list_display = ["artist", "plays", "likes", "listeners", "followers", "updated_at"]
    search_fields = ["artist__name"]
    ordering = ["-plays"]


@admin.register(TrackHour)
class TrackHourAdmin(TrackDataAdmin):
    list_display = ["track", "hour", "plays", "likes", "unlikes"]
    list_filter = [("track__artist", admin.RelatedOnlyFieldListFilter)]
    date_hierarchy = "hour"
    list_select_related = ["track"]


@admin.register(LikeState)
class LikeStateAdmin(TrackDataAdmin):
    list_display = ["track", "listener", "liked", "ts"]
    list_filter = ["liked", ("track__artist", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["listener", "track__title"]


@admin.register(FollowEvent)
class FollowEventAdmin(TrackDataAdmin):
    artist_path = "artist"

    list_display = ["id", "type", "artist", "listener", "ts", "reason", "address"]
    list_filter = ["type", "reason", ("artist", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=id", "listener", "=address", "artist__name"]
    date_hierarchy = "ts"
    list_select_related = ["artist"]


@admin.register(FollowState)
class FollowStateAdmin(TrackDataAdmin):
    artist_path = "artist"

    list_display = ["artist", "listener", "following", "ts"]
    list_filter = ["following", ("artist", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["listener", "artist__name"]


@admin.register(PoisonEvent)
class PoisonEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "reason", "created_at"]
    search_fields = ["event_id", "reason"]
    date_hierarchy = "created_at"


@admin.register(ReconcileRun)
class ReconcileRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "events", "drift", "fixed", "finished_at"]
    list_filter = ["fixed"]
    date_hierarchy = "started_at"


@admin.register(PipelineHealth)
class PipelineHealthAdmin(admin.ModelAdmin):
    """Queue depth, spool, lag, poison events and the last reconciliation on one page."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("analytics.view_pipelinehealth")

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "health": pipeline_health_get(),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/analytics/pipeline_health.html", context)
