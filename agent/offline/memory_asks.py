"""Whether a message is about what the agent knows of the user: a fact told ("I hold 2
ETH", "remember I use binance"), asked back ("did i tell you what exchange i use?"), or
to forget ("wipe your memory of me").

Asked by `intents` in its order; never of a coin's price or an alert ("don't forget,
alert me when ..." is a reminder of an alert, not a fact).
"""

from __future__ import annotations

import re
from itertools import pairwise

from agent.offline import frames, lexicon
from agent.offline.alert_asks import asks_for_alert, names_alerts, says_alerts
from agent.offline.reading import Reading
from aggregates.memory import understand as understand_fact


def recalls(r: Reading) -> bool:
    """ "what do you remember about me", "what have I told you", "do you remember which
    exchange I use", "did i tell you what exchange i use?", "what's in your memory":
    the user asks what the agent knows of them; not an alert they told it of ("delete
    the alert i told you about" is about alerts)."""
    if names_alerts(r):
        return False
    if about_memory(r) and (r.question or r.says(lexicon.LIST)):
        return True
    if _i_told(r) and r.question and not r.quantities:
        return True  # "what did i tell you about my eth bag?", of a coin too
    if not r.says(lexicon.RECALL):
        return False
    about_me = r.says("about") and r.says("me", "my") and not r.coins
    told_you = r.says("told") and r.says("you")
    you_remember = r.says("you") and r.says("remember") and r.question
    return about_me or told_you or you_remember


KNOWING = frozenset({"know", "remember", "recall", "save", "store"})
TELLING = frozenset({"tell", "told", "mention", "said", "say"})


def about_memory(r: Reading) -> bool:
    """Said of what the agent knows of the user: its memory ("your memory of me"), what
    it knows of them ("what you know about me"), what they told it ("did i tell you").
    Never of a coin or a number ("did i tell you i hold 2 eth" is a fact told again)."""
    if r.coins or r.quantities:
        return False
    if r.says("memory"):
        return True
    you_know = r.says("you") and r.says(KNOWING) and r.says("me", "my", "i")
    return you_know or _i_told(r)


def _i_told(r: Reading) -> bool:
    """ "did i tell you", "what i told you": what the user told it."""
    words = [t.text for t in r.tokens if t.kind == "word"]
    return any(w == "i" and said in TELLING for w, said in pairwise(words))


def states_a_fact(r: Reading) -> bool:
    """ "I hold 2 ETH", "i'm bagging 5000 pepe", "I mostly trade on bybit", "my risk
    appetite is high": a statement about oneself, not a question (nor one that ends in a
    question: "my wif bags are killing me, how bad is it")."""
    if r.question or asks_after(r) or says_alerts(r):
        return False
    first = next((t for t in r.tokens if t.kind == "word" and t.text != "fyi"), None)
    if first is None or not first.is_word("i", "we", "my"):
        return False
    if understand_fact(r.text.strip())[0] != "note":
        return True
    if first.is_word("my"):
        return r.says("is", "are")
    return r.says(lexicon.HOLD | {"trade", "prefer", "only", "like", "am", "use"})


QUESTION_WORDS = frozenset({"how", "what", "where", "wen"})
ASKING_VERBS = frozenset({"is", "are", "do", "does", "did", "it"})


def asks_after(r: Reading) -> bool:
    """A question said after a statement, without its mark: a question word followed
    closely by its verb ("..., how bad is it", "... what is it at")."""
    words = [t for t in r.tokens if t.kind == "word"]
    return any(
        word.is_word(QUESTION_WORDS) and any(w.is_word(ASKING_VERBS) for w in words[i + 1 : i + 3])
        for i, word in enumerate(words[1:], 1)
    )


def forgets(r: Reading) -> bool:
    """ "forget that I hold eth", "erase what i told you about my bags" (a verb of
    deleting said of what it knows); not "don't forget, alert me ..." (a reminder)."""
    words = [t for t in r.tokens if t.kind == "word"]
    erased = r.says(lexicon.DELETE) and about_memory(r) and not names_alerts(r)
    for i, token in enumerate(words):
        if token.is_word(lexicon.FORGET) or (erased and token.is_word(lexicon.DELETE)):
            said_before = {t.raw.lower() for t in words[max(0, i - 2) : i]}
            if not said_before & {"don't", "dont", "do not", "never", "not", "don\u2019t"}:
                return True
    return False


PREFERS = frozenset(
    {"prefer", "usually", "favourite", "favorite", "fav", "always", "normally", "mostly",
     "generally", "tend", "typically", "mainly"}
)  # fmt: skip
"""Words of a standing preference or habit ("I prefer alerts on binance"): told, so
remembered, even when they name alerts."""
NOTING = frozenset({"note", "fyi", "btw", "noted", "memo"})


def forgets_everything(r: Reading) -> bool:
    """ "forget everything about me", "forget all you know", "forget me", "wipe your
    memory": every fact."""
    if not forgets(r) or r.coins or r.quantities:
        return False
    fact = str(frames.fact_slots(r).get("fact", "")).lower()
    said = r.says("everything", "all", "anything", "memory")
    return said or fact in {"me", "about me"}


def told_to_remember(r: Reading) -> bool:
    """ "remember I use binance", "note: I prefer alerts on binance", "don't forget I hold
    2 eth" (not a request after it), "I usually trade on bybit", "my favourite is sol"."""
    reminded = r.says(lexicon.FORGET) and not forgets(r) and not asks_for_alert(r)
    in_mind = r.says("keep", "bear") and r.says("mind")  # "so keep that in mind"
    if r.says(lexicon.REMEMBER) or reminded or in_mind:
        return True
    words = [t for t in r.tokens if t.kind == "word"]
    if words and words[0].is_word(NOTING) and len(words) > 2 and not r.question:
        return True
    first = next((t for t in words if not t.is_word(NOTING)), None)
    mine = first is not None and first.is_word("i", "my", "we", "im", "i'm")
    said = set(re.findall(r"[a-z]+", r.text.lower()))  # "usually" is filler to the reader
    return mine and bool(said & PREFERS) and not r.question
