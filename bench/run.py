"""Prints investbot's figures on this machine: index build (cold, full rebuild, no-op), warm `ask` latency
p50/p95 over the public eval questions, peak RSS, and source hit rate against a plain dense-only baseline
(langchain Chroma similarity search, top 4).

    .venv/bin/python bench/run.py [--keep DIR]
"""

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from bot.answer import Bot
from bot.settings import Settings
from evals.cases import load_cases
from evals.metrics import percentile, source_hit
from index.build import build_index
from index.embeddings import E5Embeddings
from index.store import open_client, read_state, vectorstore

REPO = Path(__file__).resolve().parent.parent


def timed(label: str, fn):
    started = time.perf_counter()
    result = fn()
    print(f"{label:38} {time.perf_counter() - started:8.1f} s   {getattr(result, 'line', lambda: '')()}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="data dir to use and keep (default: a temporary one)")
    args = parser.parse_args()
    data = args.keep or Path(tempfile.mkdtemp(prefix="investbot-bench-"))
    corpus = REPO / "corpus"
    client = open_client(data)
    timed("index, cold (empty embedding cache)", lambda: build_index(client, corpus, data))
    timed("index --rebuild (warm cache)", lambda: build_index(client, corpus, data, rebuild=True))
    timed("index, no change", lambda: build_index(client, corpus, data))

    bot = Bot.from_settings(Settings(data_dir=data, corpus_dir=corpus), client=open_client(data))
    cases = load_cases(REPO / "evals" / "questions.yaml")
    for case in cases[:5]:  # warm-up
        bot.answer(case.question)
    latencies, hits = [], []
    for case in cases:
        started = time.perf_counter()
        answer = bot.answer(case.question, history=[t.model_dump() for t in case.history])
        latencies.append((time.perf_counter() - started) * 1000)
        if case.expect_sources and not case.expect_refusal:
            hits.append(bool(source_hit(case, answer)))
    print(f"{'warm ask latency over ' + str(len(cases)) + ' questions':38} p50 {percentile(latencies, 50):.1f} ms, "
          f"p95 {percentile(latencies, 95):.1f} ms, max {max(latencies):.1f} ms")

    baseline = vectorstore(client, read_state(client).collection, E5Embeddings())
    base_hits = []
    for case in cases:
        if case.expect_sources and not case.expect_refusal:
            docs = baseline.similarity_search(case.question, k=4)
            base_hits.append(any(d.id.startswith(tuple(case.expect_sources)) for d in docs))
    print(f"{'source hit rate, investbot':38} {sum(hits) / len(hits):.1%} of {len(hits)} answerable questions")
    print(f"{'source hit rate, dense-only top-4':38} {sum(base_hits) / len(base_hits):.1%}")
    print(f"{'peak RSS':38} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if not args.keep:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
