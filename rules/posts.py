"""Post rules: which rules a post fires, found by dictionary lookups, never by a scan.

Semantics (for rules whose target is a `PostTarget`, condition `Mentioned`):

1. **Keyword.** Lowercased, a leading ``$`` dropped, split into words (runs of letters,
   digits and ``_``). It matches a post whose text holds those words in a row, as whole
   words, in any case ("SOL" matches "$sol," and "SOL/USDT" but not "Solana"; "spot ETF"
   matches "Spot etf"), or whose cashtags or symbols name it ("SOL" matches the cashtag
   ``SOL`` and the symbol ``SOL/USDT``; "SOL/USDT" matches that symbol). So ``$SOL`` and
   ``SOL`` are the same rule.
2. **Account.** The post's author, both without a leading ``@``, in any case, from any
   source. A rule with a keyword and an account needs both.
3. **Engagement.** ``Engagement.total`` (likes + reposts + replies + quotes) at least
   ``min_engagement``, as the source saw it when it scraped the post.
4. **Arming.** A rule only fires on posts that arrived (the time of their stream entry)
   at or after its ``armed_at`` (created, resumed, or its target or condition changed,
   as the rules' log says): posts handled late (after a restart, or by a consumer group
   reading the posts from the beginning) fire only the rules that watched when they
   arrived.
5. **Time and frequency.** A post happens when it arrived, on a clock that never goes
   back and moves by a microsecond at least from one post to the next: a rule's
   firings therefore have distinct, increasing times, which is how the `rule-firings`
   recorder tells a new firing from a redelivered one. Frequency is the price rules'
   (`firing.quiet_until`, `firing.after_firing`); a rule whose ``expires_at`` is not
   later than the post's time is silent; paused, completed and expired rules are not
   indexed at all.
6. **Output.** A post's firings come ordered by rule id, each recorded in the index's
   state at once (a once-rule completes and leaves the index).

How it is fast: three dictionaries. Keywords by their normalized text (looked up with
each of the post's tags) and by their words (looked up with each run of the post's words
of a length some keyword has), accounts by handle (looked up with the post's author). A
rule with a keyword and an account sits under its keyword only and is then checked
against the author. A post costs a lookup per tag, per word and keyword length, and one
for its author, whatever the number of rules.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from uuid import UUID

import structlog

from aggregates.rule_spec import Mentioned, PostTarget
from events.catalog import PostScraped
from rules.firing import RuleState, after_firing, merged, quiet_until

log = structlog.get_logger(__name__)

_WORD = re.compile(r"\w+")
TICK = timedelta(microseconds=1)
"""How far the clock moves at least from one post to the next."""
LONG_AGO = datetime.min.replace(tzinfo=UTC)

K = TypeVar("K", bound=Hashable)


def words_of(text: str) -> tuple[str, ...]:
    """The words of `text`, lowercased, in order: what keywords match as whole words."""
    return tuple(_WORD.findall(text.lower()))


def keyword_key(keyword: str) -> str:
    """A keyword or cashtag as looked up: ``$SOL``, ``sol`` -> ``sol``."""
    return keyword.strip().lower().removeprefix("$")


def handle_key(account: str) -> str:
    """An account as looked up: ``@Whale``, ``whale`` -> ``whale``."""
    return account.strip().lower().removeprefix("@")


@dataclass(frozen=True, slots=True)
class Mentions:
    """What of a post rules can match."""

    words: tuple[str, ...]
    tags: frozenset[str]
    """Cashtags, symbols and the symbols' bases, as `keyword_key` spells them."""
    author: str

    @classmethod
    def of(cls, post: PostScraped) -> Mentions:
        tags = {keyword_key(tag) for tag in post.cashtags}
        for symbol in post.symbols:
            lowered = symbol.lower()
            tags.update((lowered, lowered.partition("/")[0]))
        return cls(words_of(post.text), frozenset(tags), handle_key(post.author))


@dataclass(frozen=True, slots=True)
class PostFiring:
    """A rule a post fired, as it is after firing, and when."""

    state: RuleState
    at: datetime


class PostRuleIndex:
    """The post rules of a process, indexed by what they watch (see above)."""

    def __init__(self) -> None:
        self._rules: dict[UUID, RuleState] = {}
        self._indexed: set[UUID] = set()
        self._by_tag: dict[str, set[UUID]] = {}
        self._by_phrase: dict[tuple[str, ...], set[UUID]] = {}
        self._phrase_lengths: Counter[int] = Counter()
        self._by_account: dict[str, set[UUID]] = {}
        self._clock = LONG_AGO

    def __len__(self) -> int:
        """How many rules are indexed (active, not known to have expired)."""
        return len(self._indexed)

    # -- rules ------------------------------------------------------------------------------

    def upsert(self, rule: RuleState) -> None:
        """Add a rule or take its new state; a rule that does not watch posts is removed."""
        if not isinstance(rule.spec.target, PostTarget):
            self.remove(rule.rule_id)
            return
        held = self._rules.get(rule.rule_id)
        if held is not None:
            self._unindex(held)
        state = self._rules[rule.rule_id] = merged(held, rule)
        if state.status == "active":
            self._index(state)

    def remove(self, rule_id: UUID) -> None:
        held = self._rules.pop(rule_id, None)
        if held is not None:
            self._unindex(held)

    def rules(self) -> Iterator[RuleState]:
        """Every rule held, with its current state, as of this call."""
        return iter(list(self._rules.values()))

    # -- posts ------------------------------------------------------------------------------

    def evaluate(self, post: PostScraped, arrived_at: datetime) -> list[PostFiring]:
        """The firings `post` causes, already recorded in the rules' state."""
        now = self._clock = arrived_at if arrived_at > self._clock else self._clock + TICK
        seen = Mentions.of(post)
        candidates = self._candidates(seen)
        if not candidates:
            return []
        engagement = post.engagement.total
        firings = []
        for rule_id in sorted(candidates):
            state = self._rules[rule_id]
            expires_at = state.spec.expires_at
            if expires_at is not None and expires_at <= now:
                self._unindex(state)  # the rule book has the aggregate expire it
                continue
            if not _fires(state, seen, engagement, arrived_at, now):
                continue
            state = self._rules[rule_id] = after_firing(state, now)
            firings.append(PostFiring(state, now))
            if state.status != "active":
                self._unindex(state)
        return firings

    def _candidates(self, seen: Mentions) -> set[UUID]:
        found = set(self._by_account.get(seen.author, ()))
        for tag in seen.tags:
            found.update(self._by_tag.get(tag, ()))
        if self._by_phrase:
            words, lengths = seen.words, list(self._phrase_lengths)
            for start in range(len(words)):
                for length in lengths:
                    found.update(self._by_phrase.get(words[start : start + length], ()))
        return found

    # -- the dictionaries -------------------------------------------------------------------

    def _index(self, state: RuleState) -> None:
        target = state.spec.target
        assert isinstance(target, PostTarget), "only post rules are indexed here"
        rule_id = state.rule_id
        self._indexed.add(rule_id)
        if target.keyword is None:
            assert target.account is not None, "a posts target watches something"
            self._by_account.setdefault(handle_key(target.account), set()).add(rule_id)
            return
        self._by_tag.setdefault(keyword_key(target.keyword), set()).add(rule_id)
        phrase = words_of(target.keyword)
        if phrase:
            self._by_phrase.setdefault(phrase, set()).add(rule_id)
            self._phrase_lengths[len(phrase)] += 1
        else:
            log.info("keyword without words: only cashtags can match it", rule_id=str(rule_id))

    def _unindex(self, state: RuleState) -> None:
        rule_id = state.rule_id
        if rule_id not in self._indexed:
            return
        self._indexed.discard(rule_id)
        target = state.spec.target
        assert isinstance(target, PostTarget), "only post rules are indexed here"
        if target.keyword is None:
            assert target.account is not None, "a posts target watches something"
            _discard(self._by_account, handle_key(target.account), rule_id)
            return
        _discard(self._by_tag, keyword_key(target.keyword), rule_id)
        phrase = words_of(target.keyword)
        if phrase and _discard(self._by_phrase, phrase, rule_id):
            self._phrase_lengths[len(phrase)] -= 1
            if not self._phrase_lengths[len(phrase)]:
                del self._phrase_lengths[len(phrase)]


def _fires(
    state: RuleState, seen: Mentions, engagement: int, arrived_at: datetime, now: datetime
) -> bool:
    """Whether a candidate rule fires: the author if it names one too, arming, engagement,
    frequency (its keyword or account matched already)."""
    target, condition = state.spec.target, state.spec.condition
    assert isinstance(target, PostTarget), "only post rules are indexed here"
    assert isinstance(condition, Mentioned), "a posts target's condition is mentioned"
    also_account = target.account if target.keyword is not None else None
    if also_account is not None and handle_key(also_account) != seen.author:
        return False
    if state.armed_at is not None and arrived_at < state.armed_at:
        return False
    if engagement < condition.min_engagement:
        return False
    quiet = quiet_until(state)
    return quiet is None or now >= quiet


def _discard(index: dict[K, set[UUID]], key: K, rule_id: UUID) -> bool:
    """Take `rule_id` out of `index[key]`, dropping an emptied key; whether it was there."""
    ids = index.get(key)
    if ids is None or rule_id not in ids:
        return False
    ids.discard(rule_id)
    if not ids:
        del index[key]
    return True
