"""Alerts (issue 16): a run's alerts as one markdown digest per robot, sent to DingTalk and WeCom group robots and
to the log. digest.py builds the digests (grouped by kind, owners shown, muted kinds left out, split to fit),
robots.py sends them (signing, the rate guard, the ledger, secrets masked). `deliver` puts the two together;
orchestration/alerts.py collects the alerts from the published snapshot and the ops store."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from writeback.alerts.digest import KINDS, LABELS, Alert, Policy, digest, select
from writeback.alerts.robots import Outcome, Robot, Sender

log = logging.getLogger("shopkeep.alerts")

__all__ = ["KINDS", "Alert", "Policy", "Robot", "Sender", "deliver", "log_alerts"]


def log_alerts(
    alerts: Iterable[Alert], policy: Policy, digest_id: str, logger: logging.Logger | None = None
) -> None:
    """Every alert of the run to the log (muted ones too, marked so): the log is the one place that has all."""
    for alert in alerts:
        muted = " (muted)" if alert.kind in policy.muted else ""
        owner = alert.owner or policy.owners.get(alert.kind, "")
        (logger or log).log(
            logging.INFO if muted else logging.WARNING,
            "alert %s %s [%s]%s%s: %s%s", digest_id, LABELS[alert.kind], alert.severity, muted,
            f" owner {owner}" if owner else "", alert.title,
            "".join(f"\n  - {line}" for line in alert.lines),
        )  # fmt: skip


def deliver(
    alerts: list[Alert],
    robots: Iterable[Robot],
    policy: Policy,
    sender: Sender,
    *,
    heading: str,
    digest_id: str,
) -> list[Outcome]:
    """Log the run's alerts, then send each robot its digest (nothing new for a robot whose kinds are all quiet
    or muted; what an earlier run deferred for it still goes first). An alert the robot got within
    `policy.repeat_after_hours` (the same checks, SKUs, sources or failure, whatever their figures) is left out of
    its digest and logged as a repeat: a failure that lasts is said once, not at every hourly run."""
    log_alerts(alerts, policy, digest_id, sender.log)
    outcomes: list[Outcome] = []
    now = sender.clock()
    for robot in robots:
        fresh = alerts
        if policy.repeat_after_hours > 0:
            keys = {alert.repeat_key for alert in alerts}
            recent = sender.ledger.recent(robot.name, keys, now - policy.repeat_after_hours * 3600)
            fresh = [alert for alert in alerts if alert.repeat_key not in recent]
            for alert in alerts:
                if alert.repeat_key in recent:
                    sender.log.info(
                        "alert %s %s: a repeat of what robot %s got %.1f h ago; not sent again within %g h",
                        digest_id, alert.kind, robot.name, (now - recent[alert.repeat_key]) / 3600,
                        policy.repeat_after_hours,
                    )  # fmt: skip
        messages = digest(
            fresh,
            policy,
            heading=heading,
            max_bytes=robot.max_bytes,
            kinds=robot.kinds,
            keyword=robot.keyword,
        )
        outcomes += sender.send(robot, messages, digest_id)
        if messages:
            sender.ledger.remember(
                robot.name, {a.repeat_key for a in select(fresh, policy, robot.kinds)}, now
            )
    return outcomes
