"""The site's URLs plus the baselines the capture endpoint is measured against."""

from django.urls import path

from bench import baselines
from mvsic.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path("bench/bare/", baselines.BareEventsView.as_view(), name="bench_bare"),
    path("bench/durable/", baselines.DurableBareEventsView.as_view(), name="bench_durable"),
    path("bench/naive/", baselines.NaiveEventsView.as_view(), name="bench_naive"),
    *site_urlpatterns,
]
