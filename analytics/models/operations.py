"""Operations: events that can never be counted, drift checks, the pipeline health page."""

from django.db import models


class PoisonEvent(models.Model):
    """An event that passed the API but can never be applied, kept with the reason."""

    event_id = models.CharField(max_length=64, unique=True)
    payload = models.JSONField(null=True)
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event_id}: {self.reason[:60]}"


class ReconcileRun(models.Model):
    """One comparison of every counter with what the stored events imply."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    events = models.BigIntegerField(help_text="Stored events compared")
    drift = models.IntegerField(help_text="Counters that differed")
    fixed = models.BooleanField(default=False)
    details = models.JSONField(default=list, help_text="The first differences found")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return (
            f"{self.started_at:%Y-%m-%d %H:%M} drift={self.drift}{' fixed' if self.fixed else ''}"
        )


class PipelineHealth(models.Model):
    """No table: gives the pipeline health page its place in the admin."""

    class Meta:
        managed = False
        verbose_name = verbose_name_plural = "pipeline health"


class CountingFailure(models.Model):
    """A worker that keeps failing to count a batch for a reason other than a database
    outage (a deploy whose code and migrations disagree, a bug): its events stay queued and
    unacknowledged, and this row tells the pipeline health page until a batch succeeds."""

    worker = models.CharField(max_length=200, unique=True)
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    attempts = models.IntegerField(default=0)
    error = models.TextField()

    def __str__(self) -> str:
        return f"{self.worker}: {self.error[:60]}"


class WorkerPool(models.Model):
    """The counting workers an elastic supervisor (analytics.elastic) runs on one host, as of
    its last heartbeat."""

    host = models.CharField(max_length=200, primary_key=True)
    workers = models.PositiveIntegerField(help_text="Counting worker processes running")
    target = models.PositiveIntegerField(help_text="What the supervisor is scaling to")
    queue_depth = models.BigIntegerField(null=True, help_text="Events messages waiting")
    backlog_seconds = models.FloatField(
        default=0.0, help_text="Seconds since the events queue was last seen empty"
    )
    heartbeat_at = models.DateTimeField()

    class Meta:
        ordering = ["host"]

    def __str__(self) -> str:
        return f"{self.host}: {self.workers} workers"
