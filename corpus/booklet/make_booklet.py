"""Render corpus/booklet/capitale-umano.pdf from the human-capital records in corpus/records.

The agency's own "Capitale umano" booklet could not be fetched, so this compiles one from the
sourced records (universities, ITS academies, human-capital figures). Run it again after editing
those records: `python corpus/booklet/make_booklet.py` (needs fpdf2 and the DejaVu fonts).
"""

import json
from pathlib import Path

from fpdf import FPDF

HERE = Path(__file__).parent
RECORDS = HERE.parent / "records"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
AGENCY_PAGE = "https://www.investinlombardy.com/it/innovazione/"


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
    pdf.ln(3)


def main() -> None:
    pdf = Booklet()
    pdf.add_font("DejaVu", "", FONT_DIR / "DejaVuSans.ttf")
    pdf.add_font("DejaVu", "B", FONT_DIR / "DejaVuSans-Bold.ttf")
    pdf.set_title("Capitale umano - Human capital in Lombardy")
    pdf.set_author("investbot, compiled from public sources")
    pdf.set_subject(AGENCY_PAGE)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    heading(pdf, "Capitale umano - Human capital in Lombardy")
    pdf.set_font("DejaVu", size=10)
    pdf.multi_cell(0, 5, (
        "This booklet is compiled from public sources. The official 'Capitale umano' booklet linked from "
        f"the Invest in Lombardy page {AGENCY_PAGE} could not be retrieved, so this edition gathers sourced "
        "facts on universities, ITS academies (higher technical institutes) and human-capital figures. Each "
        "entry names the public sources it rests on; figures carry their year where the source gives one."),
        align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    figures = [r for r in load("facts.json") if r.get("topic") == "human_capital"]
    heading(pdf, "Key figures")
    for r in figures:
        entry(pdf, r["text"], r["sources"])
    pdf.add_page()
    heading(pdf, "Universities")
    for r in load("universities.json"):
        entry(pdf, r["text"], r["sources"])
    pdf.add_page()
    heading(pdf, "ITS Academies (Istituti Tecnici Superiori)")
    for r in load("its.json"):
        entry(pdf, r["text"], r["sources"])
    pdf.add_page()
    heading(pdf, "Sources")
    pdf.set_font("DejaVu", size=8)
    groups = (figures, load("universities.json"), load("its.json"))
    every = sorted({url for group in groups for r in group for url in r["sources"]})
    pdf.multi_cell(0, 4, "\n".join(every), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(HERE / "capitale-umano.pdf"))


if __name__ == "__main__":
    main()
