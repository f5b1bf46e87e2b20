from django.contrib import admin
from django.template.response import TemplateResponse

from analytics.health import pipeline_health_get
from analytics.models import (
    ArtistStats,
    Event,
    LikeState,
    PipelineHealth,
    PoisonEvent,
    ReconcileRun,
    TrackHour,
    TrackStats,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Raw pipeline data is written by workers only; admins look, they do not edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "type", "track", "listener", "ts", "received_at", "source"]
    list_filter = ["type", "source", "track__artist"]
    search_fields = ["=id", "listener", "track__title"]
    date_hierarchy = "ts"
    list_select_related = ["track"]
    show_full_result_count = False


@admin.register(TrackStats)
class TrackStatsAdmin(ReadOnlyAdmin):
    list_display = ["track", "plays", "likes", "listeners", "updated_at"]
    list_filter = ["track__artist"]
    search_fields = ["track__title", "track__artist__name"]
    list_select_related = ["track__artist"]
    ordering = ["-plays"]


@admin.register(ArtistStats)
class ArtistStatsAdmin(ReadOnlyAdmin):
    list_display = ["artist", "plays", "likes", "listeners", "updated_at"]
    search_fields = ["artist__name"]
    ordering = ["-plays"]


@admin.register(TrackHour)
class TrackHourAdmin(ReadOnlyAdmin):
    list_display = ["track", "hour", "plays", "likes", "unlikes"]
    list_filter = ["track__artist"]
    date_hierarchy = "hour"
    list_select_related = ["track"]


@admin.register(LikeState)
class LikeStateAdmin(ReadOnlyAdmin):
    list_display = ["track", "listener", "liked", "ts"]
    list_filter = ["liked", "track__artist"]
    search_fields = ["listener", "track__title"]


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

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff

    def changelist_view(self, request, extra_context=None):
        context = {
            **self.admin_site.each_context(request),
            "health": pipeline_health_get(),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/analytics/pipeline_health.html", context)
