"""The alert a post rule's firing becomes: who posted what, with what engagement, where.

The post travels in the alert (author, link, an excerpt, engagement) so that every
channel can show it and a webhook receives it whole; the message reads, e.g.::

    @whale mentioned $SOL (1,234 engagement): SOL is breaking out, again https://x.com/…

The alert is keyed like the post (source:author), so it lands in the post's partition,
appended atomically with the post's acknowledgement.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from aggregates.message_template import render
from aggregates.rule_spec import Mentioned, PostTarget
from events.catalog import AlertTriggered, PostScraped
from rules.posts import PostFiring, keyword_key

EXCERPT_CHARS = 200
"""Characters of the post's text an alert carries, whitespace collapsed."""
MESSAGE_CHARS = 4000
_HANDLE = re.compile(r"^@?[A-Za-z0-9_]{1,32}$")


def post_alert(firing: PostFiring, post: PostScraped, event_id: UUID, key: str) -> AlertTriggered:
    """The alert of `firing` on `post`, the event `event_id` keyed `key`."""
    state = firing.state
    spec = state.spec
    target, condition = spec.target, spec.condition
    assert isinstance(target, PostTarget), "a post rule watches posts"
    assert isinstance(condition, Mentioned), "a post rule's condition is mentioned"
    engagement = post.engagement.total
    excerpt = excerpt_of(post.text)
    values: dict[str, Any] = {
        "author": post.author,
        "engagement": engagement,
        **({"url": post.url} if post.url else {}),
        "excerpt": excerpt,
        "source": post.source,
        "post_id": post.post_id,
        "value": engagement,
        "threshold": condition.min_engagement,
        "counts": post.engagement.model_dump(),
    }
    subject = target.keyword or target.account
    assert subject is not None, "a posts target watches something"
    return AlertTriggered(
        rule_id=state.rule_id,
        user_id=state.owner_id,
        subject=subject,
        condition=condition.type,
        severity=spec.severity,
        message=post_message(firing, post)[:MESSAGE_CHARS],
        values=values,
        trigger_event_id=event_id,
        trigger_key=key,
        triggered_at=firing.at,
        channels=tuple(spec.channels),
    )


def post_message(firing: PostFiring, post: PostScraped) -> str:
    """The rule's own template filled in, or the default sentence.

    A template may use the fields every rule knows; for a post rule ``symbol`` is the
    keyword as the post wrote it, ``value`` the engagement and ``threshold`` the minimum,
    and ``price`` does not exist: a template that needs it, or whose format spec fails
    at run time, gives way to the default sentence rather than to no alert.
    """
    state = firing.state
    spec = state.spec
    target, condition = spec.target, spec.condition
    assert isinstance(target, PostTarget), "a post rule watches posts"
    assert isinstance(condition, Mentioned), "a post rule's condition is mentioned"
    if spec.message_template is not None:
        fields: dict[str, Any] = {
            "symbol": shown_keyword(target.keyword, post) if target.keyword else "",
            "threshold": condition.min_engagement,
            "condition": condition.type,
            "rule": spec.name or str(state.rule_id),
            "value": post.engagement.total,
            "target": target_text(target),
        }
        rendered = render(spec.message_template, fields)
        if rendered is not None:
            return rendered
    return default_post_message(target, post)


def default_post_message(target: PostTarget, post: PostScraped) -> str:
    """E.g. "@whale mentioned $SOL (1,234 engagement): <excerpt> <url>"."""
    action = f"mentioned {shown_keyword(target.keyword, post)}" if target.keyword else "posted"
    head = f"{author_text(post.author)} {action} ({post.engagement.total:,} engagement)"
    tail = " ".join(part for part in (excerpt_of(post.text), post.url or "") if part)
    return f"{head}: {tail}" if tail else head


def shown_keyword(keyword: str, post: PostScraped) -> str:
    """The keyword as the post used it: ``$SOL`` when it is one of its cashtags."""
    key = keyword_key(keyword)
    if any(keyword_key(tag) == key for tag in post.cashtags):
        return f"${key.upper()}"
    return keyword


def target_text(target: PostTarget) -> str:
    """What a post rule watches, in words: "$SOL", "@whale", "$SOL from @whale"."""
    account = author_text(target.account) if target.account else None
    if target.keyword and account:
        return f"{target.keyword} from {account}"
    return target.keyword or account or ""


def author_text(author: str) -> str:
    """A handle with its ``@`` (``whale`` -> ``@whale``); a name (an RSS feed's) as is."""
    return f"@{author.removeprefix('@')}" if _HANDLE.match(author) else author


def excerpt_of(text: str) -> str:
    """The start of `text`, whitespace collapsed, cut at a word within `EXCERPT_CHARS`."""
    flat = " ".join(text.split())
    if len(flat) <= EXCERPT_CHARS:
        return flat
    cut = flat[: EXCERPT_CHARS - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut + "…"
