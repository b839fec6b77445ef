"""The weekly canvass chart (PNG): the response rate by route now and a week before, beside the
trend of every progress report imported so far. Drawn with matplotlib's Agg canvas (no display,
no pyplot state, safe in a worker thread)."""

from __future__ import annotations

import datetime as dt
import io

ROUTE_COLOURS = {"1": "#1d70b8", "2": "#d4351c", "3": "#00703c", "all": "#505a5f"}
ROUTE_NAMES = {
    "1": "Route 1\n(matched)",
    "2": "Route 2\n(unmatched)",
    "3": "Route 3\n(defined)",
    "all": "All",
}


def render_chart(
    title: str,
    report_date: dt.date,
    figures: dict,
    previous: dict | None,
    history: list[dict],
    subtitle: str = "",
) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    fig = Figure(figsize=(11, 5), dpi=100)
    FigureCanvasAgg(fig)
    day = f"{report_date:%a} {report_date.day} {report_date:%b %Y}"
    fig.suptitle(f"{title}: canvass progress at {day}", fontsize=14)
    if subtitle:
        fig.text(0.5, 0.89, subtitle, ha="center", fontsize=10, color="#505a5f")
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25]})

    keys = ["1", "2", "3", "all"]
    routes = figures["routes"]
    x = list(range(len(keys)))
    width = 0.38
    now = [routes[k]["rate"] for k in keys]
    colours = [ROUTE_COLOURS[k] for k in keys]
    shift = width / 2 if previous else 0
    bars = left.bar([i + shift for i in x], now, width if previous else 0.6, color=colours)
    if previous:
        before = [previous["routes"][k]["rate"] for k in keys]
        left.bar(
            [i - width / 2 for i in x],
            before,
            width,
            color=colours,
            alpha=0.3,
            hatch="//",
            edgecolor=colours,
            label=f"a week before ({previous['report_date']})",
        )
        left.legend(loc="upper left", fontsize=8, frameon=False)
    for bar, key in zip(bars, keys, strict=True):
        block = routes[key]
        left.annotate(
            f"{block['rate']:.0%}\n{block['responded']:,}/{block['properties']:,}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    left.set_xticks(x, [ROUTE_NAMES[k] for k in keys], fontsize=9)
    left.set_ylim(0, 1.36)  # room above a full bar for its label and the legend
    left.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    left.yaxis.set_major_formatter(PercentFormatter(1.0))
    left.set_title("Response rate by route", fontsize=11)
    left.spines[["top", "right"]].set_visible(False)

    days = [dt.date.fromisoformat(h["report_date"]) for h in history]
    for key, label in (("1", "Route 1"), ("2", "Route 2"), ("3", "Route 3"), ("all", "All")):
        values = [h["all" if key == "all" else f"route{key}"] for h in history]
        right.plot(
            days,
            values,
            marker="o",
            color=ROUTE_COLOURS[key],
            linewidth=2.5 if key == "all" else 1.6,
            linestyle="--" if key == "all" else "-",
            label=label,
        )
    right.set_ylim(0, 1.05)
    right.yaxis.set_major_formatter(PercentFormatter(1.0))
    right.set_title(f"Trend ({len(history)} report{'s' if len(history) != 1 else ''})", fontsize=11)
    right.legend(loc="lower right", fontsize=8, frameon=False)
    right.grid(axis="y", alpha=0.3)
    right.spines[["top", "right"]].set_visible(False)
    import matplotlib.dates as mdates

    start, end = min(days) - dt.timedelta(days=4), max(days) + dt.timedelta(days=4)
    right.set_xlim(start, end)
    if len(days) <= 9:  # a tick on each report's own day, so no point sits beside another day's label
        right.set_xticks(days)
    else:
        right.xaxis.set_major_locator(mdates.MonthLocator())
    right.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    right.tick_params(axis="x", labelsize=9)
    fig.subplots_adjust(left=0.06, right=0.97, bottom=0.14, top=0.8, wspace=0.22)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
