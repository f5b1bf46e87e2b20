"""Three baselines served by the same gunicorn as the real capture endpoint.

BareEventsView is the ceiling: DRF parses and validates exactly like the capture endpoint
(analytics.validation.event_validate) and answers 202 without doing anything with the
events. DurableBareEventsView is the ceiling for any answer that means "durably accepted":
the bare view plus the one step such an answer cannot skip, the valid events written and
fsync'd to local disk before the 202 (with the spool's group commit; nothing reads them).
NaiveEventsView is what one would build without a queue: validate, then bump the track's
counter with one UPDATE per event, synchronously, before answering.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.spool import Spool
from analytics.validation import event_validate

_UPDATES = {
    "play": "UPDATE analytics_trackstats SET plays = plays + 1 WHERE track_id = %s",
    "like": "UPDATE analytics_trackstats SET likes = likes + 1 WHERE track_id = %s",
    "unlike": "UPDATE analytics_trackstats SET likes = likes - 1 WHERE track_id = %s",
}


def _validated(request) -> tuple[list[dict], list[dict]]:
    data = request.data
    raw_events = data if isinstance(data, list) else [data]
    now = timezone.now()
    skew = timedelta(seconds=settings.MVSIC_MAX_CLOCK_SKEW_SECONDS)
    valid, rejected = [], []
    for index, raw in enumerate(raw_events):
        payload, errors = event_validate(raw, listener_cookie=None, now=now, max_skew=skew)
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
