"""Alerts to the owning team: dedup per KPI-month and status change, channels, outbox, retries.

    from pipelines.alerts import KpiStatus, dispatch
    report = dispatch(results, agreements, ".funnelpact/alerts.sqlite")

See docs/alerts.md.
"""

from pipelines.alerts.deliver import ChannelReport, DeliveryReport, Failure, RetryPolicy, dispatch
from pipelines.alerts.events import AlertEvent, KpiStatus
from pipelines.alerts.state import DEFAULT_STATE_PATH

__all__ = [
    "DEFAULT_STATE_PATH",
    "AlertEvent", "ChannelReport", "DeliveryReport", "Failure", "KpiStatus", "RetryPolicy",
    "dispatch",
]
