"""``/metrics`` in Prometheus' text format, from a :class:`bot.metrics.Snapshot`.

The one module that imports prometheus-client (the ``[metrics]`` extra), and only
when ``/metrics`` is first asked for: a SQLite polling install without the extra
runs, and its ``/metrics`` says what to install. Each scrape builds a registry of
its own around one snapshot, so every number in an answer is from the same moment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector

from bot.metrics import Snapshot

PREFIX = "organise_bot"
# The format every Prometheus server reads.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


class _Collector:
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        taken = self.snapshot
        updates = CounterMetricFamily(
            f"{PREFIX}_updates",
            "Updates handled (commands, buttons, messages, members)",
            labels=["platform"],
        )
        for platform, count in sorted(taken.updates.items()):
            updates.add_metric([platform], count)
        yield updates
        deliveries = CounterMetricFamily(
            f"{PREFIX}_deliveries",
            "Outbox deliveries by outcome: sent, failed (for good), retried, rate_limited",
            labels=["platform", "outcome"],
        )
        for platform, stats in sorted(taken.deliveries.items()):
            for outcome, count in asdict(stats).items():
                deliveries.add_metric([platform, outcome], count)
        yield deliveries
        waiting = GaugeMetricFamily(
            f"{PREFIX}_outbox_waiting", "Messages not yet sent or failed", labels=["platform"]
        )
        oldest = GaugeMetricFamily(
            f"{PREFIX}_outbox_oldest_seconds",
            "Age of the oldest message not yet sent or failed (0 when none)",
            labels=["platform"],
        )
        for platform, backlog in sorted(taken.backlog.items()):
            waiting.add_metric([platform], backlog.waiting)
            oldest.add_metric([platform], backlog.oldest_seconds)
        yield waiting
        yield oldest
        if taken.timer_lag is not None:
            yield GaugeMetricFamily(
                f"{PREFIX}_timer_lag_seconds",
                "How late the last timed job (a reminder, a poll's close) ran",
                value=taken.timer_lag,
            )
        yield GaugeMetricFamily(
            f"{PREFIX}_uptime_seconds",
            "Seconds since this process started",
            value=taken.uptime_seconds,
        )


def render(snapshot: Snapshot) -> bytes:
    """The text a scrape gets: the bot's numbers and the process' own (CPU, memory)."""
    registry = CollectorRegistry()
    registry.register(_Collector(snapshot))
    ProcessCollector(namespace=PREFIX, registry=registry)
    return generate_latest(registry)
