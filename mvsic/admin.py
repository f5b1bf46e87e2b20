from django.contrib import admin, messages
from django.utils import timezone

from mvsic.admin_scope import ArtistScopedAdmin, sees_all_artists
from mvsic.models import Artist, Tag, Track, TrackProcessing


class TrackInline(admin.TabularInline):
    model = Track
    extra = 0
    fields = ["title", "status", "audio", "duration", "hidden_at"]
    readonly_fields = ["status"]
    can_delete = False  # deleting a track hides it (TrackAdmin); only a purge removes it


@admin.register(Artist)
class ArtistAdmin(ArtistScopedAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug", "members__username"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members", "tags"]
    inlines = [TrackInline]

    def get_readonly_fields(self, request, obj=None):
        # Who belongs to an artist is for those who see every artist to decide.
        return [] if sees_all_artists(request.user) else ["members"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class TrackProcessingInline(admin.TabularInline):
    model = TrackProcessing
    extra = 0
    fields = ["started_at", "finished_at", "outcome", "error", "probe"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Track)
class TrackAdmin(ArtistScopedAdmin):
    """Deleting a track hides it from fans and keeps its history; a superuser's purge
    removes it with its events and rebuilds the artist's counters."""

    artist_path = "artist"
    list_display = ["title", "artist", "status", "duration", "loudness", "created_at", "hidden_at"]
    list_filter = [
        "status",
        ("artist", admin.RelatedOnlyFieldListFilter),
        ("hidden_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["title", "artist__name"]
    list_select_related = ["artist"]
    actions = ["purge"]
    readonly_fields = ["status", "failure", "loudness", "peaks"]
    inlines = [TrackProcessingInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "artist" and not sees_all_artists(request.user):
            kwargs["queryset"] = Artist.objects.filter(members=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_deleted_objects(self, objs, request):
        """Deleting hides the tracks: nothing else is removed, so nothing else is listed."""
        objs = list(objs)
        hidden = [f"{track} (hidden from fans; its plays and likes are kept)" for track in objs]
        return hidden, {"tracks": len(objs)}, set(), []

    def delete_model(self, request, obj):
        obj.hidden_at = obj.hidden_at or timezone.now()
        obj.save(update_fields=["hidden_at"])

    def delete_queryset(self, request, queryset):
        queryset.filter(hidden_at__isnull=True).update(hidden_at=timezone.now())

    @admin.action(description="Purge: delete with every event and figure", permissions=["purge"])
    def purge(self, request, queryset):
        count = queryset.count()
        for track in queryset:
            track.delete()  # the artist's counters are rebuilt once this commits
        messages.success(request, f"Purged {count} track(s) and their history.")

    def has_purge_permission(self, request):
        return request.user.is_superuser


@admin.register(TrackProcessing)
class TrackProcessingAdmin(ArtistScopedAdmin):
    """Every processing run of an upload: what the file was, how it ended, and the error of
    a failed one (the reason the artist sees, or a traceback)."""

    artist_path = "track__artist"
    list_display = ["track", "started_at", "finished_at", "outcome", "error_first_line"]
    list_filter = ["outcome"]
    search_fields = ["track__title", "track__artist__name", "error"]
    list_select_related = ["track__artist"]
    readonly_fields = ["track", "started_at", "finished_at", "outcome", "error", "probe"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Error")
    def error_first_line(self, obj) -> str:
        return obj.error.strip().splitlines()[-1][:120] if obj.error.strip() else ""
