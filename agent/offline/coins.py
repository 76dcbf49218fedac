"""What traders call the coins: names and nicknames of well-known tickers.

This table says only what a word means ("ether" is ETH); which pairs the system can
price comes from its configuration and the prices it has seen (`vocabulary.SymbolBook`).
A ticker not in this table is still understood when it is configured, written in
capitals, as ``$TICKER`` or as a pair.
"""

from __future__ import annotations

NAMES: dict[str, tuple[str, ...]] = {
    "BTC": ("bitcoin", "xbt", "₿", "btc", "corn"),
    "ETH": ("ethereum", "ether", "eth", "Ξ"),
    "SOL": ("solana",),
    "BNB": ("binance coin", "bnb"),
    "XRP": ("ripple",),
    "DOGE": ("dogecoin", "doge"),
    "ADA": ("cardano",),
    "AVAX": ("avalanche",),
    "LINK": ("chainlink",),
    "DOT": ("polkadot",),
    "TON": ("toncoin", "the open network"),
    "TRX": ("tron",),
    "LTC": ("litecoin",),
    "BCH": ("bitcoin cash",),
    "ETC": ("ethereum classic",),
    "SHIB": ("shiba inu", "shiba"),
    "PEPE": ("pepe",),
    "WIF": ("dogwifhat",),
    "BONK": ("bonk",),
    "FLOKI": ("floki",),
    "ARB": ("arbitrum",),
    "OP": ("optimism",),
    "POL": ("polygon", "matic"),
    "SUI": ("sui",),
    "APT": ("aptos",),
    "NEAR": ("near protocol",),
    "INJ": ("injective",),
    "TIA": ("celestia",),
    "SEI": ("sei",),
    "UNI": ("uniswap",),
    "AAVE": ("aave",),
    "MKR": ("maker",),
    "LDO": ("lido",),
    "CRV": ("curve",),
    "ENA": ("ethena",),
    "HYPE": ("hyperliquid",),
    "JUP": ("jupiter",),
    "JTO": ("jito",),
    "PYTH": ("pyth",),
    "STRK": ("starknet",),
    "EIGEN": ("eigenlayer",),
    "FET": ("fetch ai", "artificial superintelligence"),
    "RENDER": ("render",),
    "TAO": ("bittensor",),
    "WLD": ("worldcoin",),
    "ONDO": ("ondo",),
    "PENDLE": ("pendle",),
    "ATOM": ("cosmos",),
    "XLM": ("stellar",),
    "FIL": ("filecoin",),
    "ICP": ("internet computer",),
    "HBAR": ("hedera",),
    "VET": ("vechain",),
    "ALGO": ("algorand",),
    "KAS": ("kaspa",),
    "STX": ("stacks",),
    "IMX": ("immutable",),
    "XMR": ("monero",),
    "TRUMP": ("official trump",),
    "USDC": ("usd coin",),
}
"""Ticker -> its names, lower case unless a sign; the ticker itself is always a name."""

COMMON_WORDS = frozenset(
    {"near", "link", "dot", "ton", "uni", "op", "apt", "hype", "sei", "sui", "one", "gas",
     "sun", "fet", "jup", "ena", "render", "curve", "maker", "stacks", "immutable",
     "cosmos", "optimism", "jupiter", "pepe", "wif", "trump", "ondo", "algo"}
)  # fmt: skip
"""Names that are also everyday words ("near 4k", "the link", "a ton of"): in lower case
they name the coin only where a coin fits (see `reading`)."""

STRICT_TICKERS = frozenset(
    {"a", "i", "it", "me", "my", "is", "at", "am", "an", "are", "be", "by", "do", "go", "if",
     "in", "no", "of", "on", "or", "so", "to", "up", "us", "we", "all", "and", "any", "can",
     "for", "get", "new", "now", "the", "etc", "key", "max", "big", "win", "act", "ape", "gm",
     "ok", "x", "usd", "usdt"}
)  # fmt: skip
"""Configured tickers that are plain words: they name a coin only in capitals or as
``$TICKER``, never in lower case."""

QUOTES = frozenset({"USDT", "USDC", "USD", "BUSD", "FDUSD", "DAI"})
"""Quote currencies a trader means when they say dollars: the system's default quote."""

OTHER_QUOTES: dict[str, str] = {
    "eur": "EUR", "euro": "EUR", "euros": "EUR", "€": "EUR",
    "gbp": "GBP", "pound": "GBP", "pounds": "GBP", "sterling": "GBP", "£": "GBP",
    "jpy": "JPY", "yen": "JPY", "¥": "JPY",
    "cad": "CAD", "aud": "AUD", "chf": "CHF", "franc": "CHF", "francs": "CHF",
    "inr": "INR", "rupee": "INR", "rupees": "INR", "krw": "KRW", "won": "KRW",
    "try": "TRY", "lira": "TRY", "brl": "BRL", "real": "BRL", "reais": "BRL",
    "rub": "RUB", "ruble": "RUB", "rubles": "RUB", "cny": "CNY", "yuan": "CNY",
}  # fmt: skip
"""Fiat currencies other than the dollar, by how they are written; a word names one only
where a quote fits ("in euros", "BTC/EUR", "€90k"): "try" and "real" are words too."""
