"""A fan's page (/me/): the tracks they like and the artists they follow, their own data as
JSON or CSV, and forgetting it. Signed in, a fan is their account's listener; without an
account, the listener of this browser's cookie."""

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from analytics.api.csv_export import csv_response
from analytics.services.fan_data import (
    fan_data_get,
    fan_follows_list,
    fan_forget,
    fan_likes_list,
)

CSV_COLUMNS = ["time", "id", "type", "track", "title", "artist", "seconds", "source", "status"]


@require_GET
def fan_page(request):
    listener = request.listener_id
    return render(
        request,
        "analytics/fan.html",
        {
            "likes": fan_likes_list(listener=listener),
            "follows": fan_follows_list(listener=listener),
        },
    )


@require_GET
def fan_data(request):
    """?format=json (the default) or csv: every event, like and follow of this fan."""
    data = fan_data_get(listener=request.listener_id, user=request.user)
    wanted = request.GET.get("format", "json")
    if wanted == "csv":
        rows = sorted(
            [
                *((e["ts"], e["id"], e["type"], e["track"], e["title"], e["artist"],
                   e["seconds"], e["source"], e["status"]) for e in data["events"]),
                *((e["ts"], e["id"], e["type"], "", "", e["artist"], "", e["source"],
                   e["status"]) for e in data["follow_events"]),
            ]
        )  # fmt: skip
        return csv_response(
            filename="mvsic-my-events.csv", title="UTC", columns=CSV_COLUMNS, rows=rows
        )
    if wanted != "json":
        return HttpResponse("format must be json or csv.", status=400, content_type="text/plain")
    response = HttpResponse(
        json.dumps(data, indent=1), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="mvsic-my-data.json"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def fan_delete(request):
    """Forget this fan: their listener id pseudonymised everywhere, their account deleted."""
    if request.POST.get("confirm") != "yes":
        messages.error(request, "Tick the box to confirm: this cannot be undone.")
        return redirect("analytics:fan")
    try:
        fan_forget(listener=request.listener_id, user=request.user)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("analytics:fan")
    if request.user.is_authenticated:
        logout(request)  # the account is gone; logging out also hands out a fresh listener
    request.listener_reset = True
    messages.success(request, "Your data is deleted: your plays still count, but are no one's.")
    return redirect("analytics:fan")
