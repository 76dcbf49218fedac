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
        "I can't trade or place orders: I only watch the market for you. I can alert you"
        ' instead, e.g. "alert me when ETH drops below 3,000".'
    ),
    "advice": (
        "I can't give investment advice or predictions. I can show prices, what people are"
        ' saying and the news, and alert you on moves, e.g. "what are people saying about'
        ' DOGE".'
    ),
    "offtopic": f"That's not something I can do. I can help with {CAN_DO}.",
}


def other_quote(quote: str, examples: list[str]) -> str:
    """Prices asked in a currency the system does not quote."""
    pair = f"{examples[0]}/USDT" if examples else "BTC/USDT"
    return (
        f"I can't quote prices in {quote}: the prices I have are in dollars (USDT pairs like"
        f' {pair}). Ask "price of {examples[0] if examples else "BTC"}" for that.'
    )
