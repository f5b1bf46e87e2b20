"""The performance benchmark of the event pipeline (`make bench`); see docs/performance.md."""
