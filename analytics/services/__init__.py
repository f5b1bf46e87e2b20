"""Writes of the analytics pipeline, one module per job.

capture: validate fan events at the edge and hand them over durably (web processes).
counting: apply a batch of queued events to the counters, exactly once (workers).
poison: park a payload that can never be counted, with the reason.
reconciliation: recompute every counter from the stored events; report or repair drift.
"""
