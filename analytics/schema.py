"""What the OpenAPI schema says that drf-spectacular cannot infer (a postprocessing hook)."""

from django.conf import settings

EVENTS_PATH = "/api/v1/events/"


def events_request_exact(result, generator, request, public):
    """The events endpoint takes one event object, or an array of 1 to MVSIC_MAX_BATCH."""
    operation = result["paths"].get(EVENTS_PATH, {}).get("post")
    if operation is None:
        return result
    for content in operation["requestBody"]["content"].values():
        event = content["schema"]["items"]
        content["schema"] = {
            "oneOf": [
                event,
                {
                    "type": "array",
                    "items": event,
                    "minItems": 1,
                    "maxItems": settings.MVSIC_MAX_BATCH,
                },
            ]
        }
    return result
