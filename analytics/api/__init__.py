"""The JSON API: fan events in (events.py), artist statistics out (stats.py)."""
