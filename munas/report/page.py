"""The run report as one self-contained HTML page, drawn with plotly.

plotly.js is embedded once, inline, so the file opens offline and can be copied anywhere. The
charts are plotly figures; the only hand-written script is :data:`SORT_SCRIPT`, because plotly's
table trace cannot sort its rows, and a dozen lines of DOM code are smaller than embedding a
table library for it.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from datetime import datetime, timezone

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from munas.commands.plots import PANELS
from munas.commands.units import describe_bounds, format_bytes, format_count
from munas.report import data
from munas.search.candidates import EvaluatedCandidate
from munas.search.fitness import Bounds
from munas.search.results import RunResults

REFRESH_SECONDS = 10
"""How often the page of a running ``search --report`` reloads itself."""

STATUS_COLOURS = {"ok": "#1f77b4", "nan_loss": "#ff7f0e", "failed": "#d62728", "stopped": "#7f7f7f"}
FRONT_COLOUR = "#d62728"
PLOT_CONFIG = {"displaylogo": False, "responsive": True}

SORT_SCRIPT = """
// Click a column header to sort the table by it; click again to reverse. Each cell's data-sort
// holds its value (a number or text); cells without one ("-") always go last.
document.querySelectorAll("table.sortable th").forEach((header, column) => {
  header.addEventListener("click", () => {
    const body = header.closest("table").tBodies[0];
    const ascending = header.dataset.order !== "asc";
    header.parentElement.querySelectorAll("th").forEach((h) => delete h.dataset.order);
    header.dataset.order = ascending ? "asc" : "desc";
    const key = (row) => row.cells[column].dataset.sort;
    const rows = Array.from(body.rows).sort((a, b) => {
      const x = key(a), y = key(b);
      if (x === undefined || y === undefined) return (x === undefined) - (y === undefined);
      const order = isNaN(x) || isNaN(y) ? x.localeCompare(y) : Number(x) - Number(y);
      return ascending ? order : -order;
    });
    body.append(...rows);
  });
});
"""

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
.banner { padding: .6em 1em; border-radius: 4px; background: #eef4fb; margin: 1em 0; }
.banner.live { background: #fff4d6; }
.note { color: #555; max-width: 70em; }
table.sortable { border-collapse: collapse; font-size: 13px; }
table.sortable th { cursor: pointer; background: #f0f0f0; position: sticky; top: 0; }
table.sortable th[data-order="asc"]::after { content: " ▲"; }
table.sortable th[data-order="desc"]::after { content: " ▼"; }
table.sortable td, table.sortable th { border: 1px solid #ddd; padding: 2px 6px; text-align: right;
  white-space: nowrap; }
table.sortable td:last-child, table.sortable th:last-child { text-align: left; white-space: normal; }
tr.failed td, tr.nan_loss td { background: #fdecea; }
tr.stopped td { color: #777; }
"""


def _hover(c: EvaluatedCandidate) -> str:
    return (f"#{c.id} (parent {'-' if c.parent_id is None else c.parent_id}) {c.status}<br>"
            f"val err {'-' if c.val_error is None else f'{c.val_error:.4f}'}<br>PMU {format_bytes(c.pmu)}, "
            f"size {format_bytes(c.model_size)}, MACs {format_count(c.macs)}")


def front_figure(candidates: Sequence[EvaluatedCandidate], bounds: Bounds) -> go.Figure:
    """Validation error against PMU, size and MACs: every trained candidate, the front marked, the bounds drawn."""
    figure = make_subplots(rows=1, cols=3, shared_yaxes=True, horizontal_spacing=0.04,
                           subplot_titles=[label for _, label, _, _ in PANELS])
    ok = [c for c in candidates if c.ok]
    on_front = {c.id for c in data.front(candidates, bounds)}
    limits = bounds.as_dict()
    for column, (resource, _, name, write) in enumerate(PANELS, start=1):
        for members, label, style in (
                ([c for c in ok if c.id not in on_front], "trained", {"color": STATUS_COLOURS["ok"], "opacity": .45}),
                ([c for c in ok if c.id in on_front], "Pareto front",
                 {"color": FRONT_COLOUR, "size": 9, "line": {"width": 1, "color": "black"}})):
            figure.add_trace(go.Scatter(
                x=[max(getattr(c, resource), 1) for c in members], y=[c.val_error for c in members], mode="markers",
                name=f"{label} ({len(members)})", legendgroup=label, showlegend=column == 1, marker=style,
                hovertext=[_hover(c) for c in members], hoverinfo="text"), row=1, col=column)
        limit = limits[resource]
        if limit is not None:
            figure.add_vline(x=limit, line_dash="dash", line_color="grey", row=1, col=column)
            # an annotation on a log axis is placed in log10 units (add_vline's own label lands off-chart)
            figure.add_annotation(x=math.log10(limit), y=1, yref="y domain", xanchor="right", yanchor="top",
                                  showarrow=False, text=f"{name} ≤ {write(limit)}", row=1, col=column)
        if bounds.error is not None:
            figure.add_hline(y=bounds.error, line_dash="dot", line_color="dimgrey", row=1, col=column,
                             **({"annotation_text": f"error ≤ {bounds.error:g}", "annotation_position": "bottom left"}
                                if column == 1 else {}))
        figure.update_xaxes(type="log", row=1, col=column)
    figure.update_yaxes(title_text="validation error", row=1, col=1)
    figure.update_layout(height=430, margin={"t": 40, "b": 40}, legend={"orientation": "h", "y": -0.15})
    return figure


def hypervolume_figure(series: data.Progress) -> go.Figure:
    """Hypervolume after each finished candidate, against their count and against training-seconds."""
    figure = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.05,
                           subplot_titles=["against candidates finished", "against training-seconds spent"])
    for column, x in ((1, series.finished), (2, series.train_seconds)):
        figure.add_trace(go.Scatter(x=x, y=series.hypervolume, mode="lines+markers", line_shape="hv",
                                    line={"color": STATUS_COLOURS["ok"]}, marker={"size": 4}, name="hypervolume",
                                    showlegend=False), row=1, col=column)
    figure.update_xaxes(title_text="candidates finished", row=1, col=1)
    figure.update_xaxes(title_text="cumulative training-seconds", row=1, col=2)
    figure.update_yaxes(title_text="hypervolume", rangemode="tozero", row=1, col=1)
    figure.update_layout(height=340, margin={"t": 40, "b": 40})
    return figure


def spread_figure(candidates: Sequence[EvaluatedCandidate], bounds: Bounds) -> go.Figure:
    """Each candidate's validation error and resources against its id, coloured by status.

    Only ``ok`` candidates have measured errors and resources. A ``stopped`` one is drawn at the
    final error its rung predicted; ``failed`` and ``nan_loss`` ones have no error and are drawn
    as crosses on the top edge (error 1.0) so that where they happened stays visible.
    """
    figure = make_subplots(rows=2, cols=2, shared_xaxes=True, vertical_spacing=0.08, horizontal_spacing=0.07,
                           subplot_titles=["validation error", "peak memory (B)", "model size (B)", "MACs"])
    limits = bounds.as_dict()
    places = {"val_error": (1, 1), "pmu": (1, 2), "model_size": (2, 1), "macs": (2, 2)}
    for status, members in data.by_status(candidates).items():
        colour = STATUS_COLOURS.get(status, "#9467bd")
        if status == "ok":
            for objective, (row, column) in places.items():
                figure.add_trace(go.Scatter(
                    x=[c.id for c in members], y=[getattr(c, objective) for c in members], mode="markers",
                    marker={"color": colour, "size": 5}, name=f"ok ({len(members)})", legendgroup=status,
                    showlegend=objective == "val_error", hovertext=[_hover(c) for c in members], hoverinfo="text"),
                    row=row, col=column)
            continue
        estimated = status == "stopped"
        figure.add_trace(go.Scatter(
            x=[c.id for c in members], y=[c.estimated_error if estimated else 1.0 for c in members], mode="markers",
            marker={"color": colour, "size": 6 if estimated else 8, "symbol": "circle-open" if estimated else "x"},
            name=f"{status} ({len(members)}), " + ("at its estimated error" if estimated else "no error: drawn at 1.0"),
            legendgroup=status, hovertext=[f"#{c.id} {status}: {html.escape(' '.join(c.message.split()))}"
                                           for c in members], hoverinfo="text"), row=1, col=1)
    for objective, (row, column) in places.items():
        limit = bounds.error if objective == "val_error" else limits[objective]
        if limit is not None:
            figure.add_hline(y=limit, line_dash="dash", line_color="grey", row=row, col=column)
        if objective != "val_error":
            figure.update_yaxes(type="log", row=row, col=column)
    figure.update_xaxes(title_text="candidate id", row=2)
    figure.update_layout(height=560, margin={"t": 40, "b": 40}, legend={"orientation": "h", "y": -0.12})
    return figure


def prediction_figure(candidates: Sequence[EvaluatedCandidate]) -> go.Figure:
    """The screener's predicted error (± its spread) against the measured validation error."""
    points = data.screened(candidates)
    predicted = [float(c.predicted_error) for c in points]  # type: ignore[arg-type]  # screened: both are set
    measured = [float(c.val_error) for c in points]  # type: ignore[arg-type]
    spread = [c.predicted_error_std or 0.0 for c in points]
    figure = go.Figure(go.Scatter(
        x=predicted, y=measured, mode="markers", error_x={"type": "data", "array": spread, "thickness": 1},
        marker={"color": STATUS_COLOURS["ok"], "size": 6}, name="screened and trained",
        hovertext=[_hover(c) for c in points], hoverinfo="text"))
    values = measured + [p - s for p, s in zip(predicted, spread)] + [p + s for p, s in zip(predicted, spread)]
    low, high = min(values), max(values)
    pad = 0.05 * (high - low or 1.0)
    figure.add_trace(go.Scatter(x=[low, high], y=[low, high], mode="lines", line={"dash": "dot", "color": "grey"},
                                name="predicted = measured"))
    figure.update_xaxes(title_text="predicted validation error", range=[low - pad, high + pad])
    figure.update_yaxes(title_text="measured validation error", range=[low - pad, high + pad])
    figure.update_layout(height=480, width=520, margin={"t": 20, "b": 40}, legend={"orientation": "h", "y": -0.2})
    return figure


def _figure_html(figure: go.Figure) -> str:
    return figure.to_html(full_html=False, include_plotlyjs=False, config=PLOT_CONFIG)


def _table(candidates: Sequence[EvaluatedCandidate], bounds: Bounds) -> str:
    front_ids = {c.id for c in data.front(candidates, bounds)}
    header = "".join(f"<th>{html.escape(name)}</th>" for name in data.TABLE_COLUMNS)
    body = []
    for cells in data.table_rows(candidates, bounds, front_ids):
        tds = "".join(f'<td data-sort="{html.escape(str(cell.key))}">{html.escape(cell.text)}</td>'
                      if cell.key is not None else f"<td>{html.escape(cell.text)}</td>" for cell in cells)
        body.append(f'<tr class="{html.escape(cells[2].text)}">{tds}</tr>')  # the status column
    return f'<table class="sortable"><thead><tr>{header}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _banner(results: RunResults, running: bool, live: bool, generated: str) -> str:
    config, count = results.config, len(results.candidates)
    resume = f"python cli.py search --run {config.run} --resume"
    if running and live:
        return (f'<p class="banner live">This search is <b>running</b>: {count} of {config.budget} candidates '
                f"finished. The page is rewritten after every finished candidate and reloads itself every "
                f"{REFRESH_SECONDS} s (zoom and table order reset on reload).</p>")
    if running:
        return (f'<p class="banner live">Snapshot of a <b>running</b> search taken at {generated}: {count} of '
                f"{config.budget} candidates finished. Run the report again for newer results, or start a search "
                "with --report for a page that follows it.</p>")
    if count >= config.budget:
        return f'<p class="banner">Finished: all {count} candidates of the budget trained.</p>'
    return (f'<p class="banner">Stopped after {count} of {config.budget} candidates; continue it with '
            f"<code>{html.escape(resume)}</code>.</p>")


def build_page(results: RunResults, running: bool = False, live: bool = False) -> str:
    """The whole report of one run as an HTML document.

    ``running``: a search is writing the run now. ``live``: that search rewrites this page after
    every candidate (``search --report``), so the page reloads itself; a snapshot of a running
    search (``report`` while it runs) says so instead.
    """
    config, candidates, bounds = results.config, results.candidates, results.config.bounds
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    counts = ", ".join(f"{status} {len(members)}" for status, members in data.by_status(candidates).items())
    series = data.progress(candidates, config)
    hv = series.hypervolume[-1] if series.hypervolume else 0.0
    spent = series.train_seconds[-1] if series.train_seconds else 0.0
    sections = [
        f"<h1>munas run {html.escape(config.run)}</h1>",
        _banner(results, running, live, generated),
        f'<p>{html.escape(config.dataset)} · surrogate {html.escape(str(config.surrogate))} · fidelity '
        f"{html.escape(str(config.fidelity))} · {html.escape(config.accounting)} accounting · "
        f"{len(candidates)} candidates ({counts or 'none yet'}) · hypervolume {hv:.4f} · "
        f"{spent:.0f} training-seconds · page written {generated}</p>",
        f"<p>bounds: {html.escape(describe_bounds(bounds))}</p>",
    ]
    if any(c.ok for c in candidates):
        sections += [
            "<h2>Pareto front</h2>",
            '<p class="note">Validation error against each resource (log scale). The front is over all four '
            "objectives, within the bounds when any candidate fits (the candidates <code>search</code> and "
            "<code>pareto</code> print), so a front member may sit above another candidate in one panel: it wins "
            "on a resource that panel does not show. Dashed lines are the bounds; the feasible region is bottom-left."
            "</p>",
            _figure_html(front_figure(candidates, bounds)),
        ]
    else:
        sections.append("<p>No candidate has trained successfully yet, so there is no front.</p>")
    if candidates:
        sections += [
            "<h2>Hypervolume</h2>",
            '<p class="note">Hypervolume of the candidates within every bound, objectives divided by their bounds '
            "(reference point: the bounds), after each finished candidate, in the order they finished; 0 while no "
            "candidate fits every bound.</p>",
            _figure_html(hypervolume_figure(series)),
            "<h2>Population over time</h2>",
            '<p class="note">Each candidate\'s validation error and resources against its id (the order the search '
            "proposed them), coloured by status. Dashed lines are the bounds.</p>",
            _figure_html(spread_figure(candidates, bounds)),
        ]
    sections.append("<h2>Surrogate: predicted vs measured error</h2>")
    if data.screened(candidates):
        from munas.surrogate.metrics import prediction_audit

        audit = prediction_audit(candidates)
        scores = ("" if audit is None else f" Kendall τ {audit[1].kendall_tau:.3f}, Spearman ρ "
                  f"{audit[1].spearman_rho:.3f}, MAE {audit[1].mae:.4f} over {audit[0]} candidates.")
        sections += [f'<p class="note">The error the screener predicted for each child it chose to train (± the '
                     f"ensemble's spread), against the validation error measured after training.{scores}</p>",
                     _figure_html(prediction_figure(candidates))]
    else:
        sections.append('<p class="note">No predictions: this run did not screen its children with a surrogate '
                        "(<code>search --surrogate gnn</code> does), or none of the screened ones has trained yet.</p>")
    sections += ["<h2>Candidates</h2>",
                 '<p class="note">Click a column header to sort. fits: within every bound; front: on the Pareto front '
                 "above; message: why a candidate failed or was stopped.</p>",
                 _table(candidates, bounds)]
    refresh = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if running and live else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">{refresh}'
            f"<title>munas report: {html.escape(config.run)}</title><style>{STYLE}</style>"
            f'<script type="text/javascript">{get_plotlyjs()}</script></head>\n<body>\n'
            + "\n".join(sections) + f"\n<script>{SORT_SCRIPT}</script>\n</body></html>\n")
