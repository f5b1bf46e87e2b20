"""Tags as members type them: free text, comma-separated, made into URL slugs."""

from django.utils.text import slugify

MAX_TAGS = 5
MAX_LENGTH = 50


class TagsError(ValueError):
    """The text cannot be made into tags; the message says why, for the form."""


def tags_parse(text: str) -> dict[str, str]:
    """{slug: name} for "Lo-Fi, dream pop ,  Dream Pop": the first spelling of each slug,
    in the order given. Raises TagsError past MAX_TAGS, or for a tag with no letter or digit."""
    tags: dict[str, str] = {}
    for part in text.split(","):
        name = " ".join(part.split())
        if not name:
            continue
        slug = slugify(name)[:MAX_LENGTH].strip("-")
        if not slug:
            raise TagsError(f"“{name[:MAX_LENGTH]}” needs a letter or a digit (a-z, 0-9).")
        tags.setdefault(slug, name[:MAX_LENGTH])
    if len(tags) > MAX_TAGS:
        raise TagsError(f"At most {MAX_TAGS} tags: you gave {len(tags)}.")
    return tags
