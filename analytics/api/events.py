"""POST /api/v1/events/: one fan event or an array of up to 500, answered 202 once queued.

`events_capture` is the endpoint: every POST is answered by it. The busiest request of the
site takes the short way, `analytics.middleware.EventCaptureMiddleware`, which calls it
right after SecurityMiddleware; `EventsView` (what the URLconf names) calls it too, and
gives the endpoint its OpenAPI schema and OPTIONS answer. Errors are answered as DRF would.
"""

import io
import math
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, parsers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from analytics import serializers
from analytics.broker import PublishFailed
from analytics.clients import InvalidIngestKey, client_identify
from analytics.ratelimit import rate_limit_retry_after
from analytics.services.capture import events_accept
from analytics.validation import NO_LISTENER_ERROR


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is larger than 1 MiB."
    default_code = "payload_too_large"


class BrokerUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Events cannot be queued right now; retry shortly."
    default_code = "broker_unavailable"


class BadIngestKey(exceptions.AuthenticationFailed):
    default_detail = "Unknown or revoked ingest key."
    default_code = "bad_ingest_key"


class NoListener(exceptions.NotAuthenticated):
    default_detail = NO_LISTENER_ERROR
    default_code = "no_listener"


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Track ids cannot be checked right now; retry shortly."
    default_code = "database_unavailable"


def events_capture(request: HttpRequest) -> HttpResponse:
    """Identify the client, limit its rate, parse the body, validate and hand the events over
    (services.capture), answer."""
    try:
        try:
            client = client_identify(request)
        except InvalidIngestKey as exc:
            raise BadIngestKey() from exc
        except DatabaseError as exc:
            raise DatabaseUnavailable() from exc
        if not client.trusted:
            if client.listener is None:
                raise NoListener()
            if (other := cross_site(request)) is not None:
                raise exceptions.PermissionDenied(f"Events are not taken from {other}.")
            if (retry := rate_limit_retry_after(client.ip)) is not None:
                return _too_many(retry)
        content_type = request.META.get("CONTENT_TYPE", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise exceptions.UnsupportedMediaType(content_type or "(none)")
        data = BoundedJSONParser().parse(
            request, None, {"request": request, "encoding": settings.DEFAULT_CHARSET}
        )
        raw_events = data if isinstance(data, list) else [data]
        if not raw_events or len(raw_events) > settings.MVSIC_MAX_BATCH:
            detail = (
                "The array is empty."
                if not raw_events
                else f"At most {settings.MVSIC_MAX_BATCH} events per request."
            )
            return _json_response({"detail": detail}, 400)
        try:
            result = events_accept(raw_events=raw_events, client=client)
        except PublishFailed as exc:
            raise BrokerUnavailable() from exc
        except DatabaseError as exc:
            raise DatabaseUnavailable() from exc
    except exceptions.APIException as exc:
        response = _json_response({"detail": exc.detail}, exc.status_code)
        if exc.status_code == status.HTTP_401_UNAUTHORIZED:
            response["WWW-Authenticate"] = "Ingest"
        return response
    if not result.rejected:  # the common answer, without a JSON encoder
        return _json_bytes(_ALL_ACCEPTED % result.accepted, status.HTTP_202_ACCEPTED)
    code = status.HTTP_202_ACCEPTED if result.accepted else status.HTTP_400_BAD_REQUEST
    return _json_response({"accepted": result.accepted, "rejected": result.rejected}, code)


def cross_site(request: HttpRequest) -> str | None:
    """What names another site as the sender of a browser's request, or None.

    A browser sends `Sec-Fetch-Site` (cross-site for another site's page) and, with a POST,
    `Origin`; either one naming another site refuses the request. Non-browser clients send
    neither. The site's own origin, and those in DJANGO_CSRF_TRUSTED_ORIGINS, are allowed.
    """
    if request.META.get("HTTP_SEC_FETCH_SITE") == "cross-site":
        return "another site (Sec-Fetch-Site: cross-site)"
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None or origin in settings.CSRF_TRUSTED_ORIGINS:
        return None
    if urlsplit(origin).netloc == request.get_host():
        return None
    return f"the origin {origin[:100]}"


def _too_many(retry_after: float) -> HttpResponse:
    seconds = max(1, math.ceil(retry_after))
    detail = f"Too many event requests from this address; retry in {seconds} s."
    response = _json_response({"detail": detail}, status.HTTP_429_TOO_MANY_REQUESTS)
    response["Retry-After"] = str(seconds)
    return response


_RENDERER = JSONRenderer()
_ALL_ACCEPTED = b'{"accepted":%d,"rejected":[]}'  # what _RENDERER makes of it


def _json_response(data: dict, code: int) -> HttpResponse:
    """The answer DRF would render, without its per-request negotiation and finalizing."""
    return _json_bytes(_RENDERER.render(data), code)


def _json_bytes(body: bytes, code: int) -> HttpResponse:
    return HttpResponse(body, content_type="application/json", status=code)


class BoundedJSONParser(parsers.JSONParser):
    """JSON with a hard size limit, checked before the body is parsed."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.MVSIC_MAX_BODY_BYTES
        request = parser_context["request"]
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge()
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge()
        if not body:
            raise exceptions.ParseError("Request body is empty.")
        try:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError as exc:
            # json's C scanner recurses per nesting level: "[" * 100000 is bad input, not a 500.
            raise exceptions.ParseError("JSON is nested too deeply.") from exc


class _JSONOnlyNegotiation(DefaultContentNegotiation):
    """The event API answers JSON whatever the Accept header says (skips its parsing)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class EventsView(APIView):
    """The endpoint's schema and OPTIONS; a POST that reaches it goes to `events_capture`."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [BoundedJSONParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _JSONOnlyNegotiation

    @extend_schema(
        auth=[{"ingestKey": []}, {"listenerCookie": []}],
        request=serializers.EventSerializer(many=True),  # bounds: analytics.schema
        responses={
            202: serializers.AcceptanceSerializer,
            400: serializers.RejectedSerializer,
            401: OpenApiResponse(
                serializers.DetailSerializer,
                description="Neither a valid ingest key nor the site's listener cookie",
            ),
            403: OpenApiResponse(
                serializers.DetailSerializer, description="A browser request sent from another site"
            ),
            413: OpenApiResponse(serializers.DetailSerializer, description="Body over 1 MiB"),
            415: OpenApiResponse(
                serializers.DetailSerializer, description="Content-Type is not application/json"
            ),
            429: OpenApiResponse(
                serializers.DetailSerializer,
                description="Too many requests from this address; retry after Retry-After",
            ),
            503: OpenApiResponse(
                serializers.DetailSerializer,
                description="Neither the broker nor the spool can take the events, or the "
                "database cannot check track ids; retry with the same ids",
            ),
        },
        examples=[
            OpenApiExample(
                "A play",
                value={
                    "id": "6f1c1a52-3c1e-4d1b-9b7e-2a6a3b0b9d11",
                    "type": "play",
                    "track": 1,
                    "listener": "fan_42",
                    "seconds": 31.5,
                    "source": "track-page",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request):
        return events_capture(request._request)
