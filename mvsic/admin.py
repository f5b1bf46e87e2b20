from django.contrib import admin

from mvsic.models import Artist, Track


class TrackInline(admin.TabularInline):
    model = Track
    extra = 0
    fields = ["title", "audio", "duration"]


@admin.register(Artist)
class ArtistAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug", "members__username"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]
    inlines = [TrackInline]


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ["title", "artist", "duration", "created_at"]
    list_filter = ["artist"]
    search_fields = ["title", "artist__name"]
    list_select_related = ["artist"]
