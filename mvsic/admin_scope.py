"""Admin pages show a staff member only the artists they belong to.

Superusers and holders of `mvsic.view_all_artists` see every artist; anyone else sees and
changes only rows of artists they are a member of.
"""

from django.contrib import admin

ALL_ARTISTS = "mvsic.view_all_artists"


def sees_all_artists(user) -> bool:
    return user.is_superuser or user.has_perm(ALL_ARTISTS)


class ArtistScopedAdmin(admin.ModelAdmin):
    """`artist_path` is the lookup from the model to its artist ("" for Artist itself)."""

    artist_path = ""

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if sees_all_artists(request.user):
            return rows
        members = f"{self.artist_path}__members" if self.artist_path else "members"
        return rows.filter(**{members: request.user}).distinct()
