"""``search``: constrained aging-evolution NAS with a live progress display."""

from __future__ import annotations

import signal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.text import Text

from munas.commands.output import console
from munas.commands.pareto import ERROR_NOTE, HYPERVOLUME_NOTE, bound_overrides, format_rate, front_table
from munas.commands.plots import plot_fronts
from munas.commands.units import describe_bounds, format_bytes, format_count
from munas.search.candidates import EvaluatedCandidate
from munas.search.config import SearchConfig, SearchOptions
from munas.search.evaluation import load_cached_dataset
from munas.search.loop import Reporter, SearchStats, run_search
from munas.search.pareto import pareto_front


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def stats_line(stats: SearchStats) -> str:
    best = "-" if stats.best is None else f"{stats.best.val_error:.4f}"
    per = stats.seconds_per_candidate
    stopped = f" · stopped {stats.stopped}" if stats.stopped else ""
    return (f"best {best} · feasible {stats.feasible}{stopped} · HV {stats.hypervolume:.3f} · "
            f"trained {_duration(stats.train_seconds)} · {'-' if per is None else f'{per:.1f}'}s/cand · "
            f"ETA {_duration(stats.eta_seconds)}")


def candidate_line(c: EvaluatedCandidate, stats: SearchStats) -> str:
    """One plain line for a finished candidate: id, status, errors, resources, training time."""
    if c.ok:
        what = (f"ok, val err {c.val_error:.4f}, test err {format_rate(c.test_error)}, "
                f"int8 err {format_rate(c.int8_test_error)}, PMU {format_bytes(c.pmu)}, "
                f"size {format_bytes(c.model_size)}, MACs {format_count(c.macs)}")
    else:
        what = f"{c.status}: {' '.join(c.message.split())}"
    return (f"[{stats.done}/{stats.budget}] candidate #{c.id} {what}; trained {c.train_seconds:.1f} s · "
            f"{stats_line(stats)}")


class RichReporter:
    """Live bar with the search statistics; a printed line for every new best feasible candidate.

    With ``live=False`` (stdout is no terminal: nohup, CI, a pipe) a live bar would show
    nothing until the end, so every finished candidate gets one plain line instead.
    """

    def __init__(self, live: bool = True) -> None:
        self.live = live
        self._progress = Progress(BarColumn(bar_width=20), MofNCompleteColumn(), TextColumn("{task.fields[stats]}"),
                                  console=console, transient=False, disable=not live)
        self._task: TaskID | None = None
        self._best_id: int | None = None

    def start(self, config: SearchConfig, stats: SearchStats) -> None:
        console.print(f"run [bold]{config.run}[/]: {config.dataset}, budget {config.budget}, population "
                      f"{config.population}, sample {config.sample}, {config.train_config['epochs']} epochs, "
                      f"pruning {'on' if config.pruning else 'off'}, surrogate {config.surrogate}, "
                      f"fidelity {config.fidelity}, "
                      f"executor {config.executor} ({config.workers} worker(s))")
        console.print(f"bounds: {describe_bounds(config.bounds)} ({config.accounting} accounting)")
        unverified = load_cached_dataset(config.dataset, config.data_dir).unverified  # loaded once, by the search
        if unverified:
            console.print(Text.assemble(("warning: UNVERIFIED data set", "bold red"),
                                        f" {config.dataset}: {unverified}"), soft_wrap=True)
        if stats.done:
            console.print(f"resuming with {stats.done} stored candidates")
        self._best_id = None if stats.best is None else stats.best.id
        self._progress.start()
        self._task = self._progress.add_task("search", total=config.budget, completed=stats.done,
                                             stats=stats_line(stats))

    def update(self, evaluated: EvaluatedCandidate, stats: SearchStats) -> None:
        if not self.live:
            console.print(candidate_line(evaluated, stats), markup=False, highlight=False, soft_wrap=True)
            return
        if stats.best is not None and stats.best.id != self._best_id:
            self._best_id = stats.best.id
            c = stats.best
            self._progress.console.print(
                f"  new best feasible #{c.id}: val err {c.val_error:.4f}, test err {c.test_error:.4f}, "
                f"PMU {format_bytes(c.pmu)}, size {format_bytes(c.model_size)}, MACs {format_count(c.macs)}")
        elif not evaluated.ok:
            self._progress.console.print(f"  candidate #{evaluated.id} {evaluated.status}: {evaluated.message}")
        assert self._task is not None  # start() ran
        self._progress.update(self._task, completed=stats.done, stats=stats_line(stats))

    def stop(self) -> None:
        self._progress.stop()


def search_command(
    dataset: str | None = typer.Option(None, "--dataset", help="Data set name or path (default: digits)."),
    pmu: str | None = typer.Option(
        None, "--pmu",
        help="Peak-memory bound, e.g. 64KB (= 64,000 B) or 64KiB; none drops it."),
    size: str | None = typer.Option(None, "--size", help="Model-size bound, e.g. 64KB; none drops it."),
    macs: str | None = typer.Option(None, "--macs", help="MACs bound, e.g. 30M; none drops it."),
    error: str | None = typer.Option(None, "--error", help="Error bound, e.g. 0.1 or 10%; none drops it."),
    budget: int | None = typer.Option(
        None, "--budget",
        help="Candidates to train in total (initial population included)."),
    epochs: int | None = typer.Option(
        None, "--epochs",
        help="Training epochs per candidate (default: the data set's preset)."),
    pruning: bool | None = typer.Option(
        None, "--pruning/--no-pruning",
        help="Structured pruning with evolved sparsity (default on)."),
    run: str | None = typer.Option(None, "--run", help="Run name (default: <dataset>-<UTC time>)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the stored run --run NAME to its budget."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed (default 0)."),
    population: int | None = typer.Option(None, "--population", help="Population size P."),
    sample: int | None = typer.Option(None, "--sample", help="Tournament sample size S (distinct members)."),
    initial_population: int | None = typer.Option(
        None, "--initial-population",
        help="Random architectures before evolution (default P)."),
    executor: str | None = typer.Option(None, "--executor", help="inprocess (default), process or ray."),
    workers: int | None = typer.Option(None, "--workers", help="Trainings in parallel (process/ray executors)."),
    address: str | None = typer.Option(None, "--address", help="Ray cluster address (e.g. auto)."),
    surrogate: str | None = typer.Option(
        None, "--surrogate",
        help="none (default, plain μNAS) or a predictor that screens the children: gnn, rf or mlp."),
    screen: int | None = typer.Option(
        None, "--screen",
        help="Children made per trained one, for the surrogate to choose from."),
    surrogate_init: str | None = typer.Option(
        None, "--surrogate-init",
        help="Start the surrogate from a saved one (train-surrogate --out)."),
    fidelity: str | None = typer.Option(
        None, "--fidelity",
        help="full (default, μNAS: every chosen child trains in full) or multi (a quarter of the epochs first; "
        "only children a learning-curve model finds promising train on)."),
    proxies: bool | None = typer.Option(
        None, "--proxies/--no-proxies",
        help="Zero-cost proxies at initialisation for the predictor (default: on with a --surrogate predictor)."),
    accounting: str | None = typer.Option(
        None, "--accounting",
        help="tflm (default, int8 deployment) or munas (paper)."),
    data_dir: str | None = typer.Option(
        None, "--data-dir",
        help="Data cache folder (default $MUNAS_DATA_DIR or the user cache)."),
    runs_dir: str | None = typer.Option(None, "--runs-dir", help="Runs folder (default $MUNAS_RUNS_DIR or ./runs)."),
    reference_selection: bool | None = typer.Option(
        None, "--reference-selection", help="Select parents exactly as the μNAS reference (tournament with "
        "replacement, no floor on the fitness weights) instead of distinct members and λ ≥ 0.05."),
    report: bool = typer.Option(
        False, "--report", help="Rewrite runs/RUN/report.html after every finished candidate (open it in a "
        "browser: it reloads itself while the search runs)."),
) -> None:
    """Search the most accurate CNN within the memory/size/MACs bounds (μNAS aging evolution)."""
    given, dropped = bound_overrides(error, pmu, size, macs)
    options = SearchOptions(
        run=run, dataset=dataset, error=given.get("error"), pmu=given.get("pmu"), model_size=given.get("model_size"),
        macs=given.get("macs"), no_bound=frozenset(dropped), budget=budget, epochs=epochs, pruning=pruning, seed=seed,
        population=population, sample=sample, initial_population=initial_population, accounting=accounting,
        surrogate=surrogate, screen=screen, executor=executor, workers=workers, address=address, data_dir=data_dir,
        reference_selection=reference_selection, surrogate_init=surrogate_init, fidelity=fidelity, proxies=proxies,
    )
    reporter: Reporter = RichReporter(live=console.is_terminal)
    if report:
        from munas.report.live import LiveReport, Reporters  # plotly loads only for --report

        page = LiveReport(runs_dir)
        reporter = Reporters([reporter, page])
    result = run_search(options, resume=resume, reporter=reporter, runs_root=runs_dir)
    config, bounds = result.config, result.config.bounds
    ok = [c for c in result.candidates if c.ok]
    feasible = [c for c in ok if bounds.within(c.objectives)]
    front = pareto_front(result.candidates, bounds, within_bounds=bool(feasible))
    rows = [(config.run, c) for c in front]
    if ok:
        plot_fronts({config.run: result.candidates}, bounds, rows, str(result.run.plot_path),
                    title=f"{config.dataset}: validation error vs resources ({config.run})")
        what = "within bounds" if feasible else "none within bounds, all candidates"
        console.print(front_table(rows, bounds, show_run=False,
                                  title=f"Pareto front ({what}): {len(front)} of {len(result.candidates)} candidates"))
        console.print(ERROR_NOTE)
        console.print(f"hypervolume {result.stats.hypervolume:.4f} ({HYPERVOLUME_NOTE})")
        console.print(f"plot: {result.run.plot_path}")
    console.print(f"run directory: {result.run.path}")
    if report:
        console.print(f"report: {page.path}")
    if result.interrupted_by is not None:
        name = signal.Signals(result.interrupted_by).name
        console.print(f"interrupted by {name} after {len(result.candidates)} of {config.budget} candidates; "
                      f"resume with: python cli.py search --run {config.run} --resume", soft_wrap=True)
        raise typer.Exit(128 + result.interrupted_by)
