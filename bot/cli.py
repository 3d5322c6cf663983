"""The `investbot` command line: each command parses options, calls one core function, prints the result."""

import json
import logging
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.settings import Settings

if TYPE_CHECKING:  # importing the bot loads chromadb and the embedder: only the commands that answer do
    from bot.answer import Bot

EVALS_DIR = Path(__file__).resolve().parent.parent / "evals"
DEFAULT_EVALS = (EVALS_DIR / "questions.yaml", EVALS_DIR / "routing.yaml")
DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def _settings() -> Settings:
    return Settings()


def _bot(warm: bool = False) -> "Bot":
    """The bot for the settings. A command that asks one question skips the warm-up; the eval warms up, so its
    first case is timed like the others."""
    from bot.answer import Bot

    return Bot.from_settings(_settings(), warm=warm)


class Commands(click.Group):
    """A misconfigured language model is a usage error, with its message. A fault (a damaged index or question
    log, a full disk…) ends in one line that names it and the fix, with exit status 1; `--debug` shows the
    traceback instead."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            from bot.model.llm import LLMConfigError  # here: langchain is not loaded for commands that need none

            if isinstance(exc, LLMConfigError):
                raise click.ClickException(str(exc)) from exc
            if ctx.params.get("debug"):
                raise
            raise click.ClickException(fault_line(exc)) from None


def fault_line(exc: Exception) -> str:
    """What went wrong, and what to do, in one line."""
    data_dir = _settings().data_dir
    text = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if isinstance(exc, sqlite3.DatabaseError) or "questions.sqlite3" in str(exc):
        return (f"the question log {data_dir / 'questions.sqlite3'} is damaged ({text}); move it away and a new one "
                "is started (run with --debug for the details)")
    if type(exc).__module__.startswith("chromadb") or "chroma" in str(exc).lower():
        return (f"the index in {data_dir / 'chroma'} is damaged ({text}); remove that folder and run "
                "`investbot index` (run with --debug for the details)")
    return f"{text} (run with --debug for the details)"


@click.group(cls=Commands)
@click.option("-v", "--verbose", is_flag=True, help="log what happens (to stderr)")
@click.option("--debug", is_flag=True, help="show the traceback of a fault instead of one line")
def main(verbose: bool, debug: bool) -> None:
    """investbot: answers investors' questions about innovation in Lombardy, from a cited corpus."""
    logging.basicConfig(level=logging.INFO if verbose or debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--rebuild", is_flag=True, help="rebuild from every file, not only the changed ones")
@click.option("--gc", is_flag=True, help="only remove old builds and unused vector folders (disk space)")
def index(rebuild: bool, gc: bool) -> None:
    """Index corpus/ (incremental by content hash); exit status 1 if any file failed."""
    from tqdm import tqdm

    from index.build import build_index, collect_garbage
    from index.lock import IndexBusy
    from index.store import open_client

    settings = _settings()
    client = open_client(settings.data_dir, settings.chroma_host, settings.chroma_port)
    try:
        if gc:
            builds, freed = collect_garbage(client, settings.data_dir)
            click.echo(f"removed {builds} old build(s) and {freed / 1e6:.1f} MB of unused vector folders")
            return
        with tqdm(total=0, unit="file", file=sys.stderr, disable=None) as bar:
            def progress(done: int, total: int, current: str) -> None:
                bar.total = total
                bar.n = done
                bar.set_postfix_str(current)
                bar.refresh()

            summary = build_index(client, settings.corpus_dir, settings.data_dir, rebuild=rebuild,
                                  progress=progress)
    except IndexBusy as exc:
        raise click.ClickException(str(exc)) from exc
    for path, reason in summary.failures:
        click.echo(f"FAILED {path}: {reason}", err=True)
    for path, note in summary.warnings:
        click.echo(f"WARNING {path}: {note}", err=True)
    click.echo(summary.line())
    if settings.corpus_dir.resolve() == DEFAULT_CORPUS.resolve() and not summary.failed:
        from bot.shipped import refresh

        written = refresh(settings.corpus_dir, settings.data_dir)
        if written is not None:
            click.echo(f"shipped embedding cache: {written} vectors (index/shipped-embeddings.npz)")
    sys.exit(1 if summary.failed else 0)


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="print the answer object")
@click.option("--lang", default=None, help="answer language (default: the question's)")
def ask(question: str, as_json: bool, lang: str | None) -> None:
    """Answer one QUESTION from the corpus."""
    from bot.answer import render_markdown
    from bot.types import BadQuestion

    bot = _bot()
    try:
        answer = bot.answer(question, lang=lang)
    except BadQuestion as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_markdown(answer))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=7860, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the chat at /, the widget at /widget and /widget.js, the API at /api/ask, and /healthz."""
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import uvicorn

    from bot.model.llm import chat_model
    from ui.server import create_app
    from ui.timeouts import uvicorn_options

    settings = _settings()
    chat_model(settings)  # a misconfigured model is a usage error now, not a failed start in the background
    app = create_app(settings)  # opens at once; the bot (and the index, the first time) is built in the background
    click.echo(f"investbot: open http://{host}:{port}/ (widget: http://{host}:{port}/widget.js); "
               f"/healthz says when it is ready", err=True)
    uvicorn.run(app, host=host, port=port, **uvicorn_options(settings.request_timeout))


@main.command()
@click.option("--type", "hub_type", help="incubator, accelerator, research_centre, science_park, …")
@click.option("--province", help="two-letter code: BG BS CO CR LC LO MB MI MN PV SO VA")
@click.option("--sector", help="an activity, in any language: 'medical devices', 'batteries', …")
@click.option("--area", "s3_area", help="an S3 area by id: industria-salute, aerospazio, agroalimentare, …")
@click.option("--near", help="a municipality, province or area of Lombardy")
@click.option("--km", type=float, default=25.0, show_default=True, help="radius around --near")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def hubs(hub_type: str | None, province: str | None, sector: str | None, s3_area: str | None, near: str | None,
         km: float, limit: int, as_json: bool) -> None:
    """Search the innovation hubs: filter by type, province, S3 area, distance; rank by sector fit, then distance."""
    from bot.find.hubs import HubQueryError

    bot = _bot()
    try:
        place = bot.hub_search.resolve(near) if near else None
        matches = bot.hub_search.search(sector=sector, hub_type=hub_type, province=province, near=place,
                                        km=km if place else None, limit=limit, s3_area=s3_area)
    except HubQueryError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps([m.as_dict() for m in matches], ensure_ascii=False, indent=2))
        return
    for m in matches:
        distance = f"{m.distance_km:5.1f} km  " if m.distance_km is not None else ""
        click.echo(f"{distance}{m.hub.name} — {m.hub.type.replace('_', ' ')}, {m.hub.city} ({m.hub.province})"
                   f"{' [approximate location]' if m.hub.coord_precision == 'city' else ''}")
    if not matches:
        click.echo("No hub in the corpus matches these filters.")


@main.group()
def feedback() -> None:
    """The question log and the investors' thumbs."""


@feedback.command()
@click.option("--csv", "as_csv", is_flag=True, required=True, help="CSV on stdout")
def export(as_csv: bool) -> None:
    """Export every logged question, answer, sources, latency and thumbs (no IP addresses are stored)."""
    import csv

    from ui.questionlog import QuestionLog

    columns, rows = QuestionLog(_settings().data_dir / "questions.sqlite3").rows()
    writer = csv.writer(sys.stdout)
    writer.writerow(columns)
    writer.writerows([[spreadsheet_safe(cell) for cell in row] for row in rows])


def spreadsheet_safe(cell: object) -> object:
    """A question typed as "=HYPERLINK(...)" must stay text when staff open the export in a spreadsheet: a cell
    that starts like a formula gets a leading apostrophe (OWASP's advice for CSV injection)."""
    if isinstance(cell, str) and cell.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + cell
    return cell


@main.group()
def corpus() -> None:
    """Inspect the corpus."""


@corpus.command()
def check() -> None:
    """Validate every corpus file: ids, sources, coordinates, provinces, text."""
    from index.records import check_corpus

    count, problems = check_corpus(_settings().corpus_dir)
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"{count} records checked, {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)


@main.command(name="eval")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print the report object")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="write report.json, .md and .html here")
@click.option("--fail-under", type=click.FloatRange(0, 1), help="exit 1 when the pass rate is below RATE (0-1)")
@click.option("--retrieval-only", is_flag=True, help="rank without composing: recall@1/3/5 and MRR")
def eval_(files: tuple[Path, ...], as_json: bool, out: Path | None, fail_under: float | None,
          retrieval_only: bool) -> None:
    """Run eval sets (default: evals/questions.yaml and the routing set evals/routing.yaml) and report pass rate,
    route accuracy, hit rates, refusals, languages, consistency, latency."""
    from evals.cases import EvalFileError, load_cases
    from evals.report import table, write_reports
    from evals.runner import run_cases, run_retrieval

    try:
        cases = [case for path in (files or DEFAULT_EVALS) for case in load_cases(path)]
    except EvalFileError as exc:
        raise click.ClickException(str(exc)) from exc
    bot = _bot(warm=True)
    report = run_retrieval(bot, cases) if retrieval_only else run_cases(bot, cases)
    click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) if as_json else table(report))
    if out:
        for path in write_reports(report, out):
            click.echo(f"wrote {path}", err=True)
    invented = report.summary.get("invented_sources")
    if invented:
        click.echo(f"FAIL: citations name source ids that are not in the corpus: {', '.join(invented)}", err=True)
        sys.exit(1)
    rate = report.summary.get("pass_rate", report.summary.get("recall@5"))
    if fail_under is not None and (rate or 0) < fail_under:
        click.echo(f"FAIL: rate {rate:.1%} is below --fail-under {fail_under:.1%}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
