"""The `investbot` command line: each command parses options, calls one core function, prints the result."""

import json
import logging
import sys

import click

from bot.settings import Settings


def _settings() -> Settings:
    return Settings()


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="log what happens (to stderr)")
def main(verbose: bool) -> None:
    """investbot: answers investors' questions about innovation in Lombardy, from a cited corpus."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--rebuild", is_flag=True, help="rebuild from every file, not only the changed ones")
def index(rebuild: bool) -> None:
    """Index corpus/ (incremental by content hash); exit status 1 if any file failed."""
    from tqdm import tqdm

    from index.build import build_index
    from index.store import open_client

    settings = _settings()
    client = open_client(settings.data_dir, settings.chroma_host, settings.chroma_port)
    with tqdm(total=0, unit="file", file=sys.stderr, disable=None) as bar:
        def progress(done: int, total: int, current: str) -> None:
            bar.total = total
            bar.n = done
            bar.set_postfix_str(current)
            bar.refresh()

        summary = build_index(client, settings.corpus_dir, settings.data_dir, rebuild=rebuild, progress=progress)
    for path, reason in summary.failures:
        click.echo(f"FAILED {path}: {reason}", err=True)
    click.echo(summary.line())
    sys.exit(1 if summary.failed else 0)


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="print the answer object")
@click.option("--lang", default=None, help="answer language (default: the question's)")
def ask(question: str, as_json: bool, lang: str | None) -> None:
    """Answer one QUESTION from the corpus."""
    from bot.answer import BadQuestion, Bot, render_markdown

    bot = Bot.from_settings(_settings())
    try:
        answer = bot.answer(question, lang=lang)
    except BadQuestion as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_markdown(answer))


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


if __name__ == "__main__":
    main()
