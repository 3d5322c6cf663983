"""The full chat (gr.Blocks): streamed, cited answers; the hub map and table; examples; EN/IT interface."""

import html
from collections.abc import Iterator
from pathlib import Path

import gradio as gr

from bot.answer import Answer, BadQuestion
from bot.language import phrases
from ui.hubmap import hub_map
from ui.service import AskService, RateLimited

CONTACT_URL = "https://www.investinlombardy.com/en/"
EXAMPLES = [
    "I make medical devices: where in Lombardy should I set up R&D, and who can help me?",
    "Which universities are behind the MADE competence center?",
    "What are the S3 specialisation areas?",
    "Quali centri di innovazione ci sono a Bergamo?",
]
LABELS = {
    "en": {"title": "## investbot — innovation in Lombardy\nAnswers from Invest in Lombardy's material, with sources.",
           "box": "Ask about clusters, S3, competence centres, universities, where to locate…",
           "contact": f"[Contact the agency]({CONTACT_URL})", "hubs": "Innovation centres"},
    "it": {"title": "## investbot — innovazione in Lombardia\n"
                    "Risposte dai materiali di Invest in Lombardy, con le fonti.",
           "box": "Chiedi di cluster, S3, competence center, università, dove insediarsi…",
           "contact": "[Contatta l'agenzia](https://www.investinlombardy.com/it/)", "hubs": "Centri di innovazione"},
}
STREAM_STEP = 12  # words per streamed update


def message_text(content: object) -> str:
    """A chat message's text: Gradio 6 gives a message as a list of parts ({"type": "text", "text": ...}), older
    clients as a plain string."""
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else [content]
    return " ".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in parts
                    if not isinstance(p, dict) or p.get("type", "text") == "text").strip()


def render(answer: Answer) -> str:
    """The answer with its numbered sources; each source expands to the quoted snippet."""
    if not answer.citations:
        return answer.answer
    lines = [answer.answer, "", f"**{phrases(answer.language)['sources']}**", ""]
    for c in answer.citations:
        page = f", p. {c.page}" if c.page else ""
        lines.append(f"<details><summary>[{c.n}] <a href=\"{html.escape(c.url)}\" target=\"_blank\">"
                     f"{html.escape(c.title)}</a>{page}</summary>{html.escape(c.snippet)}</details>")
    return "\n".join(lines)


def hub_rows(answer: Answer) -> list[list[str]]:
    """The hub table beside the map: the name links to the hub's website when the corpus has one."""
    return [[f"[{h.name}]({h.website})" if h.website else h.name, h.type.replace("_", " "),
             f"{h.city} ({h.province})", ", ".join(h.sectors[:3]),
             "approximate (city)" if h.coord_precision == "city" else "address"]
            for h in answer.hubs]


def build_app(service: AskService, geo_dir: Path) -> gr.Blocks:
    with gr.Blocks(title="investbot", analytics_enabled=False) as app:
        ids = gr.State([])  # question-log id of each assistant message, for the thumbs
        with gr.Row():
            title = gr.Markdown(LABELS["en"]["title"])
            ui_lang = gr.Radio(["en", "it"], value="en", label="Interface", scale=0)
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(height=520, label="investbot", feedback_options=("Like", "Dislike"))
                box = gr.Textbox(placeholder=LABELS["en"]["box"], show_label=False, max_length=2000)
                gr.Examples(EXAMPLES, inputs=box)
                contact = gr.Markdown(LABELS["en"]["contact"])
            with gr.Column(scale=2):
                hubs_title = gr.Markdown(f"### {LABELS['en']['hubs']}")
                plot = gr.Plot(hub_map([], geo_dir), show_label=False)
                table = gr.Dataframe(headers=["Name", "Type", "City", "Focus", "Location"], value=[],
                                     datatype=["markdown", "str", "str", "str", "str"], interactive=False, wrap=True,
                                     column_widths=["30%", "16%", "17%", "22%", "15%"])

        def respond(message: str, history: list[dict], log_ids: list[int], request: gr.Request) -> Iterator:
            turns = [{"role": m["role"], "content": text} for m in history if (text := message_text(m["content"]))]
            history = [*history, {"role": "user", "content": message}]
            shown = ""
            try:
                for item in service.stream(message, turns, None, request.client.host if request.client else "-",
                                           "chat"):
                    if isinstance(item, str):  # a language model's answer, sentence by sentence
                        shown += item
                        yield "", [*history, {"role": "assistant", "content": shown}], log_ids, gr.skip(), gr.skip()
                    else:
                        answer, log_id = item
            except (BadQuestion, RateLimited) as exc:
                yield "", [*history, {"role": "assistant", "content": str(exc)}], log_ids, gr.skip(), gr.skip()
                return
            words = answer.answer.split(" ") if not shown else []
            for end in range(STREAM_STEP, len(words), STREAM_STEP):
                partial = {"role": "assistant", "content": " ".join(words[:end])}
                yield "", [*history, partial], log_ids, gr.skip(), gr.skip()
            final = {"role": "assistant", "content": render(answer)}
            figure = hub_map(answer.hubs, geo_dir) if answer.hubs else gr.skip()
            yield "", [*history, final], [*log_ids, log_id], figure, hub_rows(answer) if answer.hubs else gr.skip()

        box.submit(respond, [box, chat, ids], [box, chat, ids, plot, table], api_name="ask",
                   concurrency_limit=8)

        def feedback(data: gr.LikeData, log_ids: list[int]) -> None:
            assistant_turn = data.index // 2 if isinstance(data.index, int) else data.index[0] // 2
            if 0 <= assistant_turn < len(log_ids):
                service.log.thumbs(log_ids[assistant_turn], bool(data.liked))

        chat.like(feedback, [ids], None)

        def relabel(lang: str):
            words = LABELS[lang]
            return words["title"], gr.update(placeholder=words["box"]), words["contact"], f"### {words['hubs']}"

        ui_lang.change(relabel, ui_lang, [title, box, contact, hubs_title])
    return app
