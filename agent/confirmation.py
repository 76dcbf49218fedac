"""Whether a message answers the confirmation the agent asked for: yes, no, or neither.

The graph decides this before any model runs, the same for every model (offline or a
provider's): a deletion runs only on a yes it understood. Traders answer loosely ("yep
go ahead", "sure, do it", "yse", "nah cancel", "hmm no wait, keep them"), so a message
is read as words, a slip of one letter forgiven (optimal string alignment), and:

- any word of refusal makes it a no (a "no" anywhere outweighs a "sure");
- only words of assent (and filler) make it a yes;
- anything else is neither: a new request, and the pending action is dropped.
"""

from __future__ import annotations

import re
from typing import Literal

from rapidfuzz import process
from rapidfuzz.distance import OSA

Answer = Literal["yes", "no"]

YES = frozenset(
    {"yes", "y", "yeah", "yep", "yup", "yea", "ya", "sure", "ok", "okay", "k", "confirm",
     "confirmed", "do", "it", "go", "ahead", "proceed", "absolutely", "definitely",
     "correct", "right", "affirmative", "aye", "fine", "alright", "please", "delete",
     "remove", "that", "them", "all", "of", "course", "yes.", "👍", "✅", "sounds", "good",
     "perfect", "great", "for", "thanks", "done", "now", "just", "pls", "plz"}
)  # fmt: skip
NO = frozenset(
    {"no", "n", "nope", "nah", "cancel", "stop", "dont", "don't", "abort", "wait", "keep",
     "never", "nevermind", "nvm", "not", "👎", "❌", "changed", "mind", "leave"}
)  # fmt: skip
FILLER = frozenset({"hmm", "um", "uh", "oh", "well", "actually", "lol", "ser", "mate", "bro"})
_WORDS = re.compile(r"[^\W_]+(?:'[^\W_]+)?|[👍👎✅❌]")
_SLIPS = ("yes", "yeah", "sure", "okay", "confirm", "cancel")
"""The words a one-letter slip is forgiven for: short ones would catch real words."""
_REPEATS = re.compile(r"(.)\1+")


def answer(text: str) -> Answer | None:
    """ "yes", "no", or None for a message that is neither (see the module docstring)."""
    words = [_known(word) for word in _WORDS.findall(text.lower())]
    words = [word for word in words if word not in FILLER]
    if not words:
        return None
    if any(word in NO for word in words):
        return "no"
    return "yes" if all(word in YES for word in words) else None


def _known(word: str) -> str:
    """The word, or the yes/no word it stands for: "yesss" -> "yes", "yse" -> "yes"."""
    if word in YES or word in NO or word in FILLER:
        return word
    single = _REPEATS.sub(r"\1", word)
    if single in YES or single in NO:
        return single
    found = process.extractOne(word, _SLIPS, scorer=OSA.distance, score_cutoff=1)
    return str(found[0]) if found is not None else word
