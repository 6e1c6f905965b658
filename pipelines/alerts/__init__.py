"""Alerts to the owning team: dedup per KPI-month and status change, channels, outbox, retries.

    from pipelines.alerts import KpiStatus, dispatch
    report = dispatch(results, agreements, ".funnelpact/alerts.sqlite")

See docs/alerts.md.
"""

from pipelines.alerts.deliver import ChannelReport, DeliveryReport, Failure, RetryPolicy, dispatch
from pipelines.alerts.events import AlertEvent, KpiStatus

__all__ = [
    "AlertEvent", "ChannelReport", "DeliveryReport", "Failure", "KpiStatus", "RetryPolicy",
    "dispatch",
]
