"""Prints how the grounding check does on the corpus itself, with no model: every indexed sentence, quoted and cited
to its own chunk, should pass (false rejections cost fluency); the same sentence with one figure changed, cited to
evidence that lacks it, or with an invented organisation added, should fail (misses would reach investors). A
changed figure that the same chunk happens to contain elsewhere (a year, a count) is rightly accepted.

    .venv/bin/python bench/grounding.py      # uses INVESTBOT_DATA_DIR (builds the index there if missing)
"""

import re
import time

from bot.answer import Bot, corpus_texts
from bot.find.retrieve import Hit
from bot.model.grounding import Grounding
from bot.settings import Settings
from bot.write.compose import evidence_text

FIGURE = re.compile(r"\d+(?:[.,]\d+)*")  # a figure as written, to change one of its digits
# invented organisations of three shapes: a multi-word name, an acronym, a CamelCase brand
INVENTED = ["The Zorblax Materials Institute of Lodi supports it too [1].", "Partners include QZVR [1].",
            "Ask NovaMedica for details [1]."]


def main() -> None:
    bot = Bot.from_settings(Settings())
    grounding = Grounding(corpus_texts(bot.retriever))
    chunks = bot.retriever.chunks
    passed = checked = 0
    caught = {"changed figure": [0, 0], "evidence without it": [0, 0], "invented organisation": [0, 0]}
    started = time.perf_counter()
    for position, doc in enumerate(chunks):
        evidence = [evidence_text(Hit(doc, 0.0, None))]
        other = evidence_text(Hit(chunks[(position + len(chunks) // 2) % len(chunks)], 0.0, None))
        for sentence in bot.retriever.sentences.get(doc.id or "", ([], None))[0]:
            checked += 1
            passed += grounding.check(f"{sentence} [1]", evidence) is None
            invented = INVENTED[checked % len(INVENTED)]
            caught["invented organisation"][0] += grounding.check(f"{sentence} [1] {invented}", evidence) is not None
            caught["invented organisation"][1] += 1
            figures = [n for n in FIGURE.findall(sentence) if len(n) >= 2]
            if figures:
                changed = re.sub(re.escape(figures[0]), str(int(re.sub(r"\D", "", figures[0])) + 7), sentence, count=1)
                caught["changed figure"][0] += grounding.check(f"{changed} [1]", evidence) is not None
                caught["changed figure"][1] += 1
                if figures[0] not in other:
                    caught["evidence without it"][0] += grounding.check(f"{sentence} [2]", [other, other]) is not None
                    caught["evidence without it"][1] += 1
    seconds = time.perf_counter() - started
    checks = checked + sum(n for _, n in caught.values())
    print(f"verbatim quotes accepted       {passed}/{checked} ({100 * passed / checked:.1f} %)")
    for kind, (hit, total) in caught.items():
        print(f"{kind:30} caught {hit}/{total} ({100 * hit / max(total, 1):.1f} %)")
    print(f"time per check                 {1000 * seconds / checks:.2f} ms ({checks} checks)")


if __name__ == "__main__":
    main()
