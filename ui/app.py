"""The full chat (gr.Blocks): cited answers, the hub map with the hubs as cards, examples, and the interface in the
six languages (chosen from the browser's, with a switch)."""

import html
import logging
from collections.abc import Iterator
from pathlib import Path

import gradio as gr

from bot.answer import readable
from bot.languages import codes, language
from bot.languages.detect import detect_language
from bot.types import Answer, BadQuestion, HubRef
from ui.hubmap import hub_map_svg
from ui.labels import interface_language, ui_labels
from ui.ratelimit import RateLimited
from ui.service import AskService, NotReady

log = logging.getLogger(__name__)

# Wide screens show the hubs beside the map; narrow ones (where the columns stack) as cards under the answer.
CSS = """
.hub-card { border: 1px solid #e1e6eb; border-left: 3px solid #c62828; border-radius: 6px; padding: 6px 10px;
  margin: 6px 0; overflow-wrap: normal; word-break: normal; font-family: inherit; }
.hub-card .n { display: inline-block; min-width: 20px; height: 20px; border-radius: 10px; background: #c62828;
  color: #fff; font-size: 12px; font-weight: 700; text-align: center; line-height: 20px; margin-right: 6px; }
.hub-card .meta { display: block; font-size: 0.9em; color: #55606b; }
.hub-map { display: block; width: 100%; height: auto; }
.chat-hubs { display: none; }
@media (max-width: 900px) { .chat-hubs { display: block; } #hub-cards .hub-list { display: none; } }
"""
# After a reply the chat shows the start of the answer, not the end of its sources.
SCROLL_TO_ANSWER = """() => {
  const rows = document.querySelectorAll('#chat .message-row.bot-row, #chat [data-testid="bot"]');
  const row = rows[rows.length - 1];
  let box = row && row.parentElement;
  while (box && box !== document.body && !(box.scrollHeight > box.clientHeight
         && /(auto|scroll)/.test(getComputedStyle(box).overflowY))) box = box.parentElement;
  if (row && box && box !== document.body)  // the chat's own scroll, not the page's; 40 px: the chat's label
    box.scrollTop += row.getBoundingClientRect().top - box.getBoundingClientRect().top - 40;
}"""
BROWSER_LANGUAGES = "() => (navigator.languages || [navigator.language]).join(',')"


def message_text(content: object) -> str:
    """A chat message's text: Gradio 6 gives a message as a list of parts ({"type": "text", "text": ...}), older
    clients as a plain string."""
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else [content]
    return " ".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in parts
                    if not isinstance(p, dict) or p.get("type", "text") == "text").strip()


def without_hub_table(answer: Answer) -> str:
    """The answer's text without its hub table: the chat shows the hubs as cards instead."""
    heading = f"**{language(answer.language)['phrases']['hubs']}**"
    lines = [line for line in answer.answer.splitlines() if not line.startswith("|") and line.strip() != heading]
    return "\n".join(lines).replace("\n\n\n", "\n\n").strip()


def hub_cards(hubs: list[HubRef], lang: str) -> str:
    """Each hub as a card: its number on the map, its name (linked to its website), its type and town."""
    labels = ui_labels(lang)
    cards = []
    for n, h in enumerate(hubs, start=1):
        name = html.escape(h.name)
        if h.website and h.website.startswith(("http://", "https://")):
            name = f'<a href="{html.escape(h.website)}" target="_blank" rel="noopener">{name}</a>'
        kind = labels["hub_types"].get(h.type, h.type.replace("_", " "))
        where = f"{h.city} ({h.province})" + (f" · {labels['approx']}" if h.coord_precision == "city" else "")
        cards.append(f'<div class="hub-card"><span class="n">{n}</span>{name}'
                     f'<span class="meta">{html.escape(kind)} · {html.escape(where)}</span></div>')
    return "".join(cards)


def render(answer: Answer) -> str:
    """The answer first; the hubs as cards (shown here on narrow screens); the sources folded below."""
    text = without_hub_table(answer)
    if answer.hubs:
        text += f'\n\n<div class="chat-hubs">{hub_cards(answer.hubs, answer.language)}</div>'
    if not answer.citations:
        return text
    items = []
    for c in answer.citations:
        page = f", p. {c.page}" if c.page else ""
        items.append(f'<li><a href="{html.escape(c.url)}" target="_blank" rel="noopener">[{c.n}] '
                     f'{html.escape(c.title)}</a>{page}<br><small>{html.escape(c.snippet)}</small></li>')
    sources = ui_labels(answer.language)["sources"]
    return f"{text}\n\n<details><summary>{sources} ({len(answer.citations)})</summary><ol>{''.join(items)}</ol>" \
           "</details>"


def hub_panel(hubs: list[HubRef], lang: str, geo_dir: Path) -> str:
    labels = ui_labels(lang)
    listing = hub_cards(hubs, lang) if hubs else f"<p>{html.escape(labels['map_hint'])}</p>"
    return f"{hub_map_svg(hubs, geo_dir, labels['hubs'])}<div class='hub-list'>{listing}</div>"


def title_text(lang: str) -> str:
    labels = ui_labels(lang)
    return f"## {labels['title']}\n{labels['subtitle']}"


def contact_text(lang: str) -> str:
    labels = ui_labels(lang)
    return f"[{labels['contact']}]({labels['contact_url']})"


def build_app(service: AskService, geo_dir: Path) -> gr.Blocks:
    languages = [(language(code)["name"], code) for code in codes()]
    with gr.Blocks(title="investbot", analytics_enabled=False) as app:
        ids = gr.State([])  # question-log id of each assistant message, for the thumbs
        shown_hubs = gr.State([])  # the hubs on the map, redrawn when the interface language changes
        browser = gr.Textbox(visible=False)
        with gr.Row():
            title = gr.Markdown(title_text("en"), elem_id="title")
            ui_lang = gr.Dropdown(languages, value="en", label=ui_labels("en")["interface"], scale=0,
                                  min_width=160, elem_id="ui-lang")
        with gr.Row():
            with gr.Column(scale=3, min_width=300):
                chat = gr.Chatbot(height=520, label="investbot", feedback_options=("Like", "Dislike"),
                                  autoscroll=False, elem_id="chat")
                box = gr.Textbox(placeholder=ui_labels("en")["placeholder"], show_label=False, max_length=2000,
                                 elem_id="question")
                examples = gr.Dataset(components=[box], samples=[[q] for q in ui_labels("en")["examples"]],
                                      label=ui_labels("en")["examples_label"], elem_id="examples")
                contact = gr.Markdown(contact_text("en"), elem_id="contact")
            with gr.Column(scale=2, min_width=300):
                hubs_title = gr.Markdown(f"### {ui_labels('en')['hubs']}")
                side = gr.HTML(hub_panel([], "en", geo_dir), elem_id="hub-cards")

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
            except (BadQuestion, RateLimited, NotReady) as exc:
                yield "", [*history, {"role": "assistant", "content": str(exc)}], log_ids, gr.skip(), gr.skip()
                return
            except Exception:  # a fault of ours: the details go to the log, the investor gets one short line
                log.exception("the chat could not answer")
                failed = ui_labels(detect_language(message) if readable([message]) else "en")["failed"]
                yield "", [*history, {"role": "assistant", "content": failed}], log_ids, gr.skip(), gr.skip()
                return
            # A grounded answer is ready whole in milliseconds: it is sent once. Sent in growing steps, it reached the
            # browser all at once anyway, and each step cost the server a message (12 ms of CPU an answer).
            final = {"role": "assistant", "content": render(answer)}
            if answer.hubs:
                panel, hubs = hub_panel(answer.hubs, answer.language, geo_dir), answer.hubs
            else:
                panel, hubs = gr.skip(), gr.skip()
            yield "", [*history, final], [*log_ids, log_id], panel, hubs

        box.submit(respond, [box, chat, ids], [box, chat, ids, side, shown_hubs], api_name="ask",
                   concurrency_limit=8).then(None, js=SCROLL_TO_ANSWER)
        examples.click(lambda sample: sample[0], examples, box, api_name=False)

        def feedback(data: gr.LikeData, log_ids: list[int]) -> None:
            assistant_turn = data.index // 2 if isinstance(data.index, int) else data.index[0] // 2
            if 0 <= assistant_turn < len(log_ids):
                service.log.thumbs(log_ids[assistant_turn], bool(data.liked))

        chat.like(feedback, [ids], None)

        def relabel(lang: str, hubs: list[HubRef]):
            labels = ui_labels(lang)
            return (title_text(lang), gr.update(label=labels["interface"]),
                    gr.update(placeholder=labels["placeholder"]),
                    gr.update(samples=[[q] for q in labels["examples"]], label=labels["examples_label"]),
                    contact_text(lang), f"### {labels['hubs']}", hub_panel(hubs, lang, geo_dir))

        ui_lang.change(relabel, [ui_lang, shown_hubs], [title, ui_lang, box, examples, contact, hubs_title, side],
                       api_name=False)
        app.load(interface_language, browser, ui_lang, js=BROWSER_LANGUAGES, api_name=False)
    return app
