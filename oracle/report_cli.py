"""`servicecoin report`: the brand's analytics (oracle/report.py) as tables or JSON."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import click

from oracle.config import OracleConfig
from oracle.report import Report, build_report
from oracle.service import open_outbox
from oracle.units import svc


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")


def print_report(report: Report) -> None:
    click.echo(f"brand {report.brand_id}, events that happened from {_date(report.since)} to {_date(report.until)} "
               f"({report.days} days)")
    click.echo("\nmost active customers (rewarded events; base rewards, before tier multipliers):")
    if not report.most_active:
        click.echo("  none rewarded in this window")
    for a in report.most_active:
        click.echo(f"  {a.customer_id:<32} {a.rewarded:>6} rewarded  {svc(a.base_reward_units):>10} SVC  "
                   f"last {_date(a.last_seen)}")
    click.echo(f"\nchurn risk (rewarded in the {report.days} days before, silent since):")
    if not report.churn_risk:
        click.echo("  nobody went quiet")
    for c in report.churn_risk:
        click.echo(f"  {c.customer_id:<32} {c.rewarded_before:>6} rewarded before  last {_date(c.last_seen)}")
    click.echo("\nkinds of feedback, least first:")
    click.echo(f"  {'kind':<18} {'received':>8} {'rewarded':>8} {'declined':>8} {'pending':>8}")
    for k in report.kinds:
        click.echo(f"  {k.kind:<18} {k.received:>8} {k.rewarded:>8} {k.declined:>8} {k.pending:>8}")


def register(
    main_group: click.Group,
    load: Callable[[click.Context], OracleConfig],
    guard: Callable[[Callable[[], Any]], Any],
) -> None:
    """Adds `report` to the `servicecoin` group (load/guard: the CLI's own helpers)."""

    @main_group.command()
    @click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True,
                  help="The window: events that happened in the last DAYS days (churn compares it with the DAYS before).")
    @click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True,
                  help="How many customers each list shows.")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    @click.pass_context
    def report(ctx: click.Context, days: int, top: int, as_json: bool) -> None:
        """Most active customers, customers at churn risk and the kinds of feedback that come least."""
        config = load(ctx)
        outbox = guard(lambda: open_outbox(config))
        result = build_report(outbox.engine, config.brand_id, int(time.time()), days, top)
        if as_json:
            click.echo(json.dumps(result.as_json(), indent=2))
        else:
            print_report(result)
