"""What the offline model says when no tool answers: greetings, thanks, help, and what
it cannot do, each said plainly with what it can do instead."""

from __future__ import annotations

CAN_DO = (
    'prices ("price of ETH", "btc and sol"), alerts ("alert me when BTC drops 5% today",'
    ' "ETH below 3k on Binance, just once", "tell me when @whale_alert posts about SOL"),'
    ' your alerts ("list my alerts", "pause my ETH alerts", "delete alert 2"), what people'
    ' say ("what\'s CT saying about SOL", "what\'s trending this week"), the news ("news on'
    ' Solana"), watches ("watch 0x…", "follow @account") and what you tell me ("I hold 2'
    ' ETH", "what do you remember about me")'
)

HELP = (
    "I am Impressox's offline model: I run without any AI provider, and I understand"
    f" requests about {CAN_DO}. When something is missing I ask. Configure a real model"
    " for open conversation."
)
GREETING = 'Hi! Ask me for a price, an alert or what people are saying, e.g. "price of BTC".'
THANKS = "You're welcome! Anything else?"
CANCELLED = "OK, dropped it. Anything else?"

UNSUPPORTED = {
    "trading": (
        "I can't trade, place orders or move funds: I only watch the market for you. I can"
        ' alert you instead, e.g. "alert me when ETH drops below 3,000".'
    ),
    "advice": (
        "I can't give investment advice or predictions. I can show prices, what people are"
        ' saying and the news, and alert you on moves, e.g. "what are people saying about'
        ' DOGE".'
    ),
    "derivatives": (
        "I have spot prices only: no funding rates, open interest or liquidations. I can"
        ' show a price or alert you on a move, e.g. "alert me when BTC moves 3% in an hour".'
    ),
    "offtopic": (
        'That\'s not something I can do. Try "price of ETH", "alert me when BTC drops 5%"'
        ' or "list my alerts"; "help" shows all I can do.'
    ),
}

HELP_ON = {
    "alerts": (
        'Just tell me what to watch, e.g. "alert me when BTC goes above 100k", "ETH drops 5%'
        ' in an hour", "SOL volume 3x normal", "BTC below 90k on Binance, just once", or'
        ' "tell me when @whale_alert posts about SOL". "list my alerts", "pause alert 2" and'
        ' "delete my ETH alerts" manage them.'
    ),
    "watches": (
        'Send "watch 0x…" with a wallet\'s address (0x and 40 hex characters) to watch it,'
        ' "what did 0x… do today" for its activity, or "follow @account" for an account.'
    ),
    "posts": (
        'Ask "what\'s CT saying about SOL" or "latest posts about $ETH", "what\'s trending'
        ' this week", or "tell me when people mention ETF" for an alert on posts.'
    ),
    "memory": (
        'Tell me about yourself ("remember I hold 2 ETH", "I trade on Bybit"); "what do you'
        ' remember about me" shows it, "forget that I hold ETH" drops it.'
    ),
}
"""How to use one feature, for "how do I set up an alert?"."""

HOLDINGS_UNKNOWN = (
    "I don't know what you hold yet: tell me, e.g. \"remember I hold 2 ETH\", and I'll"
    " price it for you."
)
VOLUME_AMOUNT = (
    "I can't alert on a volume amount: my volume alerts fire on a spike, a multiple of the"
    ' usual volume. Want one, e.g. "{coin} volume 3x normal in 1h"?'
)
AUTHOR = (
    'I can\'t search posts by one account. I can follow @{handle} ("follow @{handle}"), or'
    ' alert you when it posts ("tell me when @{handle} posts").'
)


def feature_help(feature: str | None) -> str:
    return HELP_ON.get(feature or "", HELP)


def window_note(window_s: int, said_s: int) -> str:
    """A window said after an alert was made ("within an hour")."""
    if window_s == said_s:
        return f"That alert already watches a window of {_duration(said_s)}."
    return (
        f"That alert watches {_duration(window_s)}; alerts cannot be changed once made. To use"
        f' {_duration(said_s)}, delete it and ask again with the window, e.g. "5% in'
        f' {_duration(said_s)}".'
    )


def _duration(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            count = seconds // size
            return f"{count} {unit}" + ("s" if count > 1 else "")
    return f"{seconds} seconds"


def other_quote(quote: str, examples: list[str], coin: str | None = None) -> str:
    """Prices asked in a currency the system does not quote (a fiat or another coin)."""
    coin = coin or (examples[0] if examples else "BTC")
    return (
        f"I can't price in {quote}: the prices I have are in dollars, against USDT. I can"
        f' give you {coin}/USDT instead ("price of {coin}", or an alert on {coin}/USDT).'
    )


def prediction(coin: str | None, level: float | None) -> str:
    """Where a price will go: not said (no predictions, no advice); an alert offered."""
    said = "I can't predict prices or give investment advice."
    if coin is None:
        return f"{said} {UNSUPPORTED['advice'].split('. ', 1)[1]}"
    if level is not None:
        amount = f"{level:,.10g}"
        return (
            f"{said} I can tell you when {coin} gets there:"
            f' "alert me when {coin} goes above {amount}", or show its price now.'
        )
    return (
        f"{said} I can show {coin}'s price, what people are saying about it and the news,"
        f' and alert you on its moves, e.g. "alert me when {coin} moves 5%".'
    )
