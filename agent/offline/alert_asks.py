"""Whether a message is about alerts: asks for one ("tell me when btc hits 100k"), names
the user's ("my rules", not "the airdrop's eligibility rules"), lists them, or pauses,
resumes or deletes them (not "my bags are killing me").

Asked by `intents` in its order, and by `memory_asks` (a statement that names alerts is
not a fact to remember); each question looks at a message's meanings, never a phrasing.
"""

from __future__ import annotations

from agent.offline import lexicon
from agent.offline.normalise import Token
from agent.offline.reading import Reading


def manages(r: Reading) -> str | None:
    """Pause, resume or delete, when the message is about alerts (not "drops 5%", not
    "drops below 12")."""
    if side_or_move(r) or conditional(r) or r.says("everytime", "onlyonce", "atmost"):
        return None
    words = [t for t in r.tokens if t.kind == "word"]
    at = [i for i, t in enumerate(words) if _changes_something(words, i)]
    verbs = [words[i].text for i in at]
    numbered = any(q.bare or q.kind == "ordinal" for q in r.quantities)
    it_changed = any(w.is_word("it") for i in at for w in words[i + 1 : i + 2])
    about_alerts = r.says(lexicon.ALERT_NOUNS - {"it"}, lexicon.EVERY) or numbered or it_changed
    alone = not (r.words - set(verbs) - {"me", "my", "please", "can", "you", "could"})
    if not verbs or not (about_alerts or alone):
        return None
    verb = verbs[0]
    if verb in lexicon.RESUME:
        return "resume_alert"
    return "pause_alert" if verb in lexicon.PAUSE else "delete_alert"


PERSONS = frozenset({"me", "us", "you", "him", "her"})
"""Whom a verb of deleting may be said of without meaning an alert: "killing me"."""


def _changes_something(words: list[Token], i: int) -> bool:
    """Whether the word at `i` is a verb of pausing, resuming or deleting said of a
    thing: not a status ("paused alerts"), not a feeling ("my bags are killing me")."""
    word = words[i]
    if word.text not in lexicon.PAUSE | lexicon.RESUME | lexicon.DELETE:
        return False
    said_of = words[i + 1] if i + 1 < len(words) else None
    return word.raw.lower() not in lexicon.STATUS and not (
        said_of is not None and said_of.is_word(PERSONS)
    )


def names_alerts(r: Reading) -> bool:
    """An alert named by its noun ("the alert I told you about"), not by "it", "one"."""
    return r.says(lexicon.ALERT_NOUNS - {"one", "ones", "them", "it"})


def conditional(r: Reading) -> bool:
    """ "if", "when" with an alert's words: a request for an alert, not about alerts."""
    return r.says(lexicon.WHEN - {"once"}) and r.says(lexicon.ALERT | lexicon.TELL | {"notify"})


def lists(r: Reading) -> bool:
    """ "show my alerts", "what eth alerts do I have?", "paused alerts", "my rules"."""
    if not says_alerts(r) or side_or_move(r) or conditional(r):
        return False
    if r.says("set", "create", "add", "new", "make") and not r.says("have", "got"):
        return False
    if r.says(lexicon.LIST) or r.says("what", "which", "my", "have"):
        return True
    plural = {t.raw.lower() for t in r.tokens} & {"alerts", "rules"}
    said = {t.text for t in r.tokens if t.kind == "word" and t.raw.lower() not in lexicon.STATUS}
    return bool(plural) and said <= {"alert", "rule", "all", "the", "now"}


RULE_OF = (
    lexicon.FUNCTION_WORDS | lexicon.ALERT | lexicon.LIST | lexicon.EVERY | set(lexicon.STATUS)
)
"""Words that may stand before "rules" meaning alerts ("my rules", "alert rules", "all
active rules"); any other word makes them rules of something ("the airdrop's
eligibility rules")."""


def says_alerts(r: Reading) -> bool:
    """Whether the message names alerts: "alert", or "rule" said of the user's alerts,
    not of something else ("jupiter airdrop eligibility rules", "rules of the game")."""
    if r.says("alert"):
        return True
    in_coin = {i for c in r.coins for i in range(c.start, c.end)}
    for i, token in enumerate(r.tokens):
        if not token.is_word("rule"):
            continue
        before = r.tokens[i - 1] if i else None
        after = r.tokens[i + 1] if i + 1 < len(r.tokens) else None
        qualified = before is not None and i - 1 not in in_coin and not _alerts_rule(before)
        if not qualified and not (after is not None and after.is_word("of")):
            return True
    return False


def _alerts_rule(before: Token) -> bool:
    """Whether a word before "rules" leaves them the user's alerts: "my", "alert",
    "active"; not a noun in -ing ("listing rules", "staking rules")."""
    return before.is_word(RULE_OF) and not before.raw.lower().endswith("ing")


def side_or_move(r: Reading) -> bool:
    return bool(
        r.kinds("percent")
        or r.says(lexicon.ABOVE, lexicon.BELOW, lexicon.CROSS, lexicon.BREAK, lexicon.VOLUME)
    )


MOVES = lexicon.RISE | lexicon.FALL | lexicon.MOVE


def wants_to_know(r: Reading) -> bool:
    """ "eth drops 150 bucks in 10 mins = i wanna know", "i'd like to hear if sol pumps"."""
    return r.says("know", "hear") and r.says("wanna", "want", "like", "need")


def asks_for_alert(r: Reading) -> bool:
    """An alert's words ("alert", "ping"), a telling word or "set up" with a condition
    ("tell me when", "so i hear about it if", "set something up if"), a coin watched for
    a condition ("watch for volume spikes on pepe"), or a coin, a number and a side said
    tersely ("btc > 100k")."""
    if r.says(lexicon.ALERT, "notify", "everytime", "onlyonce", "atmost"):
        return True
    set_up = r.says("setup") or (r.says("set") and r.says("up"))
    if (r.says(lexicon.TELL) or set_up) and r.says(lexicon.WHEN):
        return True
    if r.says(lexicon.WATCH) and r.coins and side_or_move(r) and not r.question:
        return True
    if wants_to_know(r) and r.coins and (side_or_move(r) or r.says(MOVES)) and not r.question:
        return True
    terse = r.coins and (r.kinds("amount") or r.kinds("percent")) and side_or_move(r)
    return bool(terse) and not r.question
