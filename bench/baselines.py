"""Three baselines served by the same gunicorn as the real capture endpoint.

BareEventsView is the ceiling: DRF parses and validates exactly like the capture endpoint
(the client identified by its ingest key or cookie, browsers rate limited, each event
checked by analytics.validation.event_validate, addresses hashed) and answers 202 without
doing anything with the events. DurableBareEventsView is the ceiling for any answer that
means "durably accepted": the bare view plus the one step such an answer cannot skip, the
valid events written and fsync'd to local disk before the 202 (with the spool's group
commit; nothing reads them). NaiveEventsView is what one would build without a queue:
validate, then bump the track's counter with one UPDATE per event, synchronously, before
answering. Crediting and filtering (services.integrity) are the worker's work, not the
endpoint's: no baseline does them.
"""

from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.clients import Client, InvalidIngestKey, client_identify
from analytics.ratelimit import rate_limit_retry_after
from analytics.services.capture import edge_of
from analytics.spool import Spool
from analytics.validation import event_validate

_UPDATES = {
    "play": "UPDATE analytics_trackstats SET plays = plays + 1 WHERE track_id = %s",
    "like": "UPDATE analytics_trackstats SET likes = likes + 1 WHERE track_id = %s",
    "unlike": "UPDATE analytics_trackstats SET likes = likes - 1 WHERE track_id = %s",
}


def _client(request) -> Client:
    """The request's client, as the capture endpoint identifies and rate limits it."""
    try:
        client = client_identify(request._request)
    except InvalidIngestKey as exc:
        raise exceptions.AuthenticationFailed("Unknown or revoked ingest key.") from exc
    if not client.trusted and (wait := rate_limit_retry_after(client.ip)) is not None:
        raise exceptions.Throttled(wait)
    return client


def _validated(request) -> tuple[list[dict], list[dict]]:
    edge = edge_of(_client(request), timezone.now())
    data = request.data
    raw_events = data if isinstance(data, list) else [data]
    valid, rejected = [], []
    for index, raw in enumerate(raw_events):
        payload, errors = event_validate(raw, edge=edge)
        if errors:
            rejected.append({"index": index, "errors": errors})
        else:
            valid.append(payload)
    return valid, rejected


class BareEventsView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]

    def post(self, request):
        valid, rejected = _validated(request)
        self.keep(valid)
        code = status.HTTP_202_ACCEPTED if valid else status.HTTP_400_BAD_REQUEST
        return Response({"accepted": len(valid), "rejected": rejected}, status=code)

    def keep(self, valid: list[dict]) -> None:
        """What the view does with the valid events before answering: nothing, here."""


class DurableBareEventsView(BareEventsView):
    spool: Spool | None = None

    def keep(self, valid: list[dict]) -> None:
        if valid:
            if DurableBareEventsView.spool is None:
                DurableBareEventsView.spool = Spool(settings.BENCH_DURABLE_DIR)
            DurableBareEventsView.spool.append(valid)


class NaiveEventsView(BareEventsView):
    def keep(self, valid: list[dict]) -> None:
        with connection.cursor() as cursor:
            for payload in valid:
                # One autocommitted UPDATE per event: a play, or a like (+1) / unlike (-1).
                cursor.execute(_UPDATES[payload["type"]], [payload["track"]])
