"""Render corpus/booklet/capitale-umano.pdf from the human-capital records in corpus/records.

The agency's own "Capitale umano" booklet could not be fetched, so this compiles one from the
sourced records (universities, ITS academies, human-capital figures), one record a page, and writes the
provenance beside it with each page's own source. Run it again after editing those records:
`python corpus/booklet/make_booklet.py` (needs fpdf2 and the DejaVu fonts).
"""

import json
from pathlib import Path

import yaml
from fpdf import FPDF

HERE = Path(__file__).parent
RECORDS = HERE.parent / "records"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def load(name: str) -> list[dict]:
    return json.loads((RECORDS / name).read_text(encoding="utf-8"))


class Booklet(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", size=8)
        self.cell(0, 8, f"Capitale umano - compiled from public sources - page {self.page_no()}", align="C")


def heading(pdf: FPDF, text: str) -> None:
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 8, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def entry(pdf: FPDF, text: str, sources: list[str]) -> None:
    # No title line: each record's text opens with its name, and a separate line would merge into it.
    pdf.set_font("DejaVu", size=10)
    pdf.multi_cell(0, 5, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=7.5)
    pdf.multi_cell(0, 4, "Sources: " + " ; ".join(sources) + ".", align="L", new_x="LMARGIN", new_y="NEXT")


def main() -> None:
    """One record a page, so each page's citation can carry that record's own best source (the page_urls of
    capitale-umano.meta.yaml); the first page also says what the booklet is."""
    pdf = Booklet()
    pdf.add_font("DejaVu", "", FONT_DIR / "DejaVuSans.ttf")
    pdf.add_font("DejaVu", "B", FONT_DIR / "DejaVuSans-Bold.ttf")
    pdf.set_title("Capitale umano - Human capital in Lombardy (compiled from public sources)")
    pdf.set_author("investbot, compiled from public sources")
    pdf.set_auto_page_break(True, margin=15)
    sections = [("Key figures", [r for r in load("facts.json") if r.get("topic") == "human_capital"]),
                ("Universities", load("universities.json")),
                ("ITS Academies (Istituti Tecnici Superiori)", load("its.json"))]
    page_urls: dict[int, str] = {}
    for title, records in sections:
        for position, record in enumerate(records):
            pdf.add_page()
            if pdf.page_no() == 1:
                heading(pdf, "Capitale umano - Human capital in Lombardy")
                pdf.set_font("DejaVu", size=10)
                pdf.multi_cell(0, 5, (
                    "This booklet is a compilation from public sources, not a publication of Invest in Lombardy: "
                    "the agency's own 'Capitale umano' booklet could not be retrieved. It gathers sourced facts "
                    "on universities, ITS academies (higher technical institutes) and human-capital figures, one "
                    "entry a page, each with the public sources it rests on."),
                    align="L", new_x="LMARGIN", new_y="NEXT")
                pdf.ln(4)
            if position == 0:
                heading(pdf, title)
            entry(pdf, record["text"], record["sources"])
            page_urls[pdf.page_no()] = record["sources"][0]
    pdf.output(str(HERE / "capitale-umano.pdf"))
    meta = {"id": "booklet:capitale-umano",
            "title": "Capitale umano (human capital booklet, compiled from public sources)",
            "url": page_urls[1], "language": "en", "page_urls": page_urls}
    header = ("# Provenance of capitale-umano.pdf, written by make_booklet.py: a compilation from public sources,\n"
              "# not the agency's booklet. Each page is one record; page_urls gives that record's best source.\n")
    (HERE / "capitale-umano.meta.yaml").write_text(header + yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")


if __name__ == "__main__":
    main()
