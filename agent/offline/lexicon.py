"""The words the offline model knows, grouped by what they mean to it.

Everything here is data: how traders shorten words (`SLANG`), the phrases that mean one
thing (`PHRASES`), and, per meaning, the base forms of the words that say it. Readers
(`normalise`, `reading`, `understanding`) never match a phrasing; they ask whether a
message holds a word of a meaning. Adding a synonym is one word in one set.
"""

from __future__ import annotations

SLANG: dict[str, tuple[str, ...]] = {
    "whats": ("what", "is"), "wheres": ("where", "is"), "hows": ("how", "is"),
    "whos": ("who", "is"), "thats": ("that", "is"), "its": ("it", "is"),
    "im": ("i", "am"), "ive": ("i", "have"), "id": ("i", "would"), "ill": ("i", "will"),
    "dont": ("do", "not"), "doesnt": ("does", "not"), "cant": ("can", "not"),
    "wont": ("will", "not"), "lets": ("let", "us"), "youre": ("you", "are"),
    "youve": ("you", "have"), "weve": ("we", "have"), "thru": ("through",),
    "u": ("you",), "ur": ("your",), "r": ("are",), "abt": ("about",), "bout": ("about",),
    "ppl": ("people",), "gimme": ("give", "me"), "lemme": ("let", "me"),
    "lmk": ("notify",), "rn": ("now",), "atm": ("now",), "wen": ("when",),
    "wut": ("what",), "wat": ("what",), "sayin": ("saying",), "talkin": ("talking",),
    "thx": ("thanks",), "thnx": ("thanks",), "thanx": ("thanks",), "ty": ("thanks",),
    "tysm": ("thanks",), "tyvm": ("thanks",), "nvm": ("nevermind",),
    "btw": ("fyi",), "w": ("with",), "b4": ("before",), "2day": ("today",),
    "tmrw": ("tomorrow",), "tmr": ("tomorrow",), "tmw": ("tomorrow",),
    "px": ("price",), "hr": ("hour",), "hrs": ("hour",), "min": ("minute",),
    "mins": ("minute",), "sec": ("second",), "secs": ("second",), "wk": ("week",),
    "pct": ("percent",), "procent": ("percent",), "perc": ("percent",),
    "del": ("delete",), "rm": ("remove",), "abv": ("above",), "blw": ("below",),
    "bellow": ("below",), "abov": ("above",), "pls": (), "plz": (), "please": (),
    "kindly": (), "ser": (), "fren": (), "frens": (), "fam": (), "bro": (), "bruh": (),
    "mate": (), "sir": (), "dude": (), "lol": (), "lmao": (), "haha": (), "hmm": (),
    "um": (), "uh": (), "ok": (), "okay": (), "like": (), "kinda": (),
    "actually": (), "really": (), "maybe": (), "also": (), "again": (),
    "mostly": (), "usually": (), "quick": (), "quickly": (), "asap": (), "anon": (),
    "wagmi": (), "ngl": (), "tbh": (), "imo": (), "yall": (), "guys": (),
}  # fmt: skip
"""A shorthand -> the words it stands for; () drops a filler word."""

PHRASES: dict[tuple[str, ...], str] = {
    ("let", "me", "know"): "notify", ("let", "us", "know"): "notify",
    ("heads", "up"): "notify", ("wake", "me", "up"): "notify", ("keep", "me", "posted"): "notify",
    ("keep", "an", "eye", "on"): "watch", ("keep", "an", "eye"): "watch",
    ("get", "rid", "of"): "delete", ("get", "rid"): "delete",
    ("turn", "off"): "pause", ("switch", "off"): "pause", ("shut", "up"): "pause",
    ("shut", "off"): "pause",
    ("back", "on"): "resume", ("turn", "on"): "resume", ("switch", "on"): "resume",
    ("bring", "back"): "resume",
    ("never", "mind"): "nevermind", ("forget", "it"): "nevermind",
    ("what", "can", "you", "do"): "help", ("what", "else", "can", "you"): "help",
    ("how", "do", "i", "use"): "help", ("how", "does", "this", "work"): "help",
    ("how", "does", "it", "work"): "help", ("who", "are", "you"): "help",
    ("what", "are", "you"): "help", ("are", "you", "a"): "help", ("are", "you", "an"): "help",
    ("what", "else", "can"): "help",
    ("thank", "you"): "thanks", ("thanks", "a", "lot"): "thanks",
    ("good", "morning"): "hello", ("good", "evening"): "hello",
    ("good", "afternoon"): "hello", ("good", "day"): "hello", ("what", "is", "up"): "hello",
    ("how", "much"): "howmuch", ("how", "many"): "howmuch",
    ("market", "buy"): "buy", ("market", "sell"): "sell", ("limit", "order"): "order",
    ("stop", "loss"): "order", ("take", "profit"): "order",
    ("in", "case"): "if",
    ("at", "most"): "atmost", ("no", "more", "than"): "atmost", ("max", "once"): "atmost once",
    ("every", "single", "time"): "everytime", ("every", "time"): "everytime",
    ("each", "time"): "everytime", ("keep", "pinging"): "everytime",
    ("keep", "alerting"): "everytime", ("keep", "notifying"): "everytime",
    ("just", "once"): "onlyonce", ("only", "once"): "onlyonce", ("one", "time"): "onlyonce",
    ("one", "shot"): "onlyonce", ("one", "off"): "onlyonce", ("single", "shot"): "onlyonce",
    ("to", "the", "upside"): "up", ("to", "the", "downside"): "down",
    ("going", "up"): "up", ("going", "down"): "down", ("goes", "up"): "up",
    ("goes", "down"): "down", ("go", "up"): "up", ("go", "down"): "down",
    ("higher", "than"): "above", ("lower", "than"): "below", ("more", "than"): "morethan",
    ("less", "than"): "lessthan", ("greater", "than"): "above", ("at", "least"): "atleast",
    ("crypto", "twitter"): "ct", ("just", "so", "you", "know"): "fyi",
    ("for", "the", "record"): "fyi", ("by", "the", "way"): "fyi", ("note", "that"): "fyi",
    ("tell", "me", "about"): "explain", ("look", "up"): "search",
    ("find", "out"): "search", ("what", "is", "new"): "news", ("anything", "new"): "news",
    ("all", "of", "them"): "all", ("in", "a", "row"): "",
    ("the", "next"): "next", ("over", "the", "next"): "next", ("in", "the", "next"): "next",
    ("over", "the", "last"): "last", ("in", "the", "last"): "last",
    ("end", "of", "the", "week"): "thisweek", ("end", "of", "week"): "thisweek",
    ("this", "week"): "thisweek", ("this", "month"): "thismonth",
    ("half", "an", "hour"): "halfhour", ("half", "hour"): "halfhour",
}  # fmt: skip
"""A run of words -> the one word it means here ("" drops it); the longest run wins."""

# -- what a word means -------------------------------------------------------------------

ALERT = frozenset(
    {"alert", "notify", "notified", "notification", "ping", "warn", "remind", "wake", "buzz",
     "signal", "trigger", "alarm"}
)  # fmt: skip
TELL = frozenset({"tell", "message", "text", "dm", "inform", "shout", "holler", "hear"})
"""Alert words only with a condition: "tell me when", not "tell me a joke"."""
WHEN = frozenset({"when", "if", "whenever", "once", "soon", "until", "before"})

ABOVE = frozenset(
    {"above", "over", "morethan", "exceed", "exceeds", "higher", "tops", "beyond", ">",
     "clears", "flip", "flips", "reclaim", "reclaims"}
)  # fmt: skip
BELOW = frozenset(
    {"below", "under", "lessthan", "beneath", "lower", "<", "lose", "loses", "sub", "underneath"}
)  # fmt: skip
BREAK = frozenset({"break", "breaks", "breakout", "broke"})
"""A level broken: above it, or crossing it upward."""
CROSS = frozenset({"cross", "crosses", "crossing", "crossed"})
REACH = frozenset({"hit", "hits", "reach", "reaches", "touch", "touches", "tag", "tags", "at"})
"""A level without a side: reached from wherever the price is ("when ETH hits 4k"), or
asked ("alert at 4k")."""

RISE = frozenset(
    {"pump", "rise", "rip", "jump", "moon", "gain", "rally", "climb", "surge", "soar",
     "up", "green", "send", "spike", "skyrocket", "explode", "bounce", "+", "upward",
     "upwards"}
)  # fmt: skip
FALL = frozenset(
    {"drop", "fall", "dump", "nuke", "crash", "tank", "dip", "sink", "plunge", "bleed",
     "down", "red", "slide", "decline", "collapse", "drain", "rekt", "-", "correct",
     "downward", "downwards"}
)  # fmt: skip
MOVE = frozenset({"move", "swing", "change", "do", "vary", "fluctuate", "shift"})
VOLUME = frozenset({"volume", "vol"})
MULTIPLE = frozenset({"x", "times", "fold"})
MULTIPLE_WORDS = {"double": 2.0, "doubles": 2.0, "triple": 3.0, "triples": 3.0}

FREQUENCY_WORDS = {"hourly": 3600, "daily": 86400, "weekly": 604800}
"""How often, in one word: at most once per that interval."""

LIST = frozenset({"list", "show", "see", "view", "display", "check", "give"})
ALERT_NOUNS = frozenset({"alert", "rule", "notification", "one", "ones", "them", "it"})
PAUSE = frozenset(
    {"pause", "mute", "silence", "snooze", "disable", "stop", "suspend", "deactivate",
     "quiet"}
)  # fmt: skip
RESUME = frozenset(
    {"resume", "unpause", "unmute", "reactivate", "enable", "reenable", "restart",
     "restore", "activate", "unsilence", "unsnooze", "continue"}
)  # fmt: skip
DELETE = frozenset(
    {"delete", "remove", "cancel", "kill", "nuke", "clear", "erase", "trash", "scrap",
     "drop", "destroy", "purge", "wipe", "yeet", "ditch", "bin"}
)  # fmt: skip
EVERY = frozenset({"all", "everything", "every", "each", "entire", "whole"})
STATUS = {"paused": "paused", "muted": "paused", "active": "active", "live": "active"}

TRENDING = frozenset({"trending", "trend", "hot", "popular", "buzzing", "viral"})
"""Words that ask what is trending by themselves ("top mentions" asks it with "top")."""
POSTS = frozenset(
    {"saying", "say", "said", "talk", "talking", "sentiment", "chatter", "tweet", "post",
     "ct", "twitter", "buzz", "alpha", "opinion", "vibe", "mood", "discuss", "discussing",
     "think", "thinking", "feel", "feeling", "rumor", "rumour", "gossip", "drama",
     "narrative", "consensus"}
)  # fmt: skip
SOCIAL = frozenset({"tweet", "post", "mention", "talk", "talking", "say", "saying", "ct"})
PEOPLE = frozenset(
    {"people", "anyone", "someone", "somebody", "anybody", "everyone", "everybody",
     "ct", "twitter", "x", "crowd", "influencer", "whale", "guy", "account"}
)  # fmt: skip
NEWS = frozenset(
    {"news", "headline", "update", "latest", "explain", "search", "research", "article",
     "read", "story", "announcement", "find", "learn", "info", "information", "happen"}
)  # fmt: skip
OFF_TOPIC = frozenset(
    {"weather", "joke", "poem", "song", "recipe", "movie", "film", "football", "soccer",
     "homework", "essay", "translate", "dating", "girlfriend", "boyfriend", "lyrics",
     "horoscope", "game", "sports"}
)  # fmt: skip
"""What people ask a chat bot that has nothing to do with markets."""
ENGAGEMENT = frozenset(
    {"like", "likes", "engagement", "interaction", "retweet", "repost", "reply", "view",
     "heart", "follower"}
)  # fmt: skip

WATCH = frozenset({"watch", "track", "monitor", "stalk", "follow"})
WALLET = frozenset({"wallet", "address", "whale", "fund", "funds", "account"})
FOLLOW = frozenset({"follow", "subscribe", "add"})

REMEMBER = frozenset({"remember", "fyi", "memorize"})
HOLD = frozenset(
    {"hold", "holding", "own", "have", "bag", "bagging", "bought", "stack", "stacking",
     "long", "sitting", "position"}
)  # fmt: skip
FORGET = frozenset({"forget", "unremember", "unlearn"})
RECALL = frozenset({"remember", "know", "told", "memory", "recall", "said", "save", "store"})

HELP = frozenset(
    {"help", "command", "commands", "capability", "feature", "menu", "option", "guide",
     "instruction", "howto", "usage", "start", "tutorial"}
)  # fmt: skip
GREETING = frozenset(
    {"hi", "hello", "hey", "heya", "hiya", "yo", "gm", "sup", "howdy", "greetings",
     "morning", "evening", "afternoon", "hallo", "hola", "wassup", "gn"}
)  # fmt: skip
THANKS = frozenset(
    {"thanks", "thank", "cheers", "appreciate", "appreciated", "grateful", "kudos",
     "ta", "merci", "gracias"}
)  # fmt: skip
PRAISE = frozenset(
    {"great", "awesome", "perfect", "nice", "cool", "good", "amazing", "excellent", "sweet",
     "lovely", "brilliant", "wonderful", "so", "much", "a", "lot", "very", "again", "man"}
)  # fmt: skip
"""Words that go with thanks or a greeting without asking for anything."""
CANCEL = frozenset(
    {"nevermind", "cancel", "no", "nope", "nah", "abort", "skip", "forget", "stop",
     "not", "dont", "wait", "keep"}
)  # fmt: skip

PRICE = frozenset(
    {"price", "quote", "worth", "value", "cost", "trading", "doing", "looking", "howmuch",
     "rate", "chart", "priced", "going", "sitting", "where", "level"}
)  # fmt: skip
TRADE = frozenset(
    {"buy", "sell", "ape", "aping", "order", "leverage", "swap", "withdraw", "deposit",
     "execute", "margin", "invest"}
)  # fmt: skip
"""Asking for a trade: something this agent never does. ("long"/"short" and "trade" count
only as requests: "open a 10x long", "trade for me"; "I trade on Binance" is a fact.)"""
TRANSFER = frozenset({"send", "transfer", "pay", "wire", "bridge"})
"""Moving funds, when asked with a sum or an address ("send 0.5 eth to 0x…"): never
done ("send it" alone is a pump, "sends" in an alert is a wallet's transfer)."""
ADVICE = frozenset(
    {"advice", "advise", "recommend", "recommendation", "predict", "prediction", "forecast",
     "investment", "outlook", "nfa"}
)  # fmt: skip
"""Words that ask for advice or a prediction by themselves ("should I", "will it" too)."""

DOLLARS = frozenset({"dollar", "dollars", "buck", "bucks", "usd", "usdt", "usdc", "$"})
CENTS = frozenset({"cent", "cents", "c"})

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DURATION_UNITS: dict[str, int] = {
    "s": 1, "second": 1, "m": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400,
    "day": 86400, "w": 604800, "week": 604800, "month": 2592000,
}  # fmt: skip
NUMBER_WORDS: dict[str, int] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
SCALE_WORDS: dict[str, int] = {
    "hundred": 100, "thousand": 1000, "grand": 1000, "million": 1_000_000,
    "mil": 1_000_000, "billion": 1_000_000_000,
}  # fmt: skip
ORDINALS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3,
}  # fmt: skip

FUNCTION_WORDS = frozenset(
    {"a", "an", "the", "to", "of", "for", "in", "on", "at", "by", "is", "are", "was", "be",
     "been", "it", "me", "my", "i", "you", "your", "and", "or", "if", "when", "what",
     "which", "who", "how", "where", "why", "can", "could", "would", "will", "should",
     "do", "does", "did", "have", "has", "had", "with", "about", "this", "that", "these",
     "those", "any", "some", "no", "not", "yes", "so", "now", "then", "than", "more",
     "less", "most", "from", "as", "get", "got", "go", "goes", "going", "gets", "set",
     "make", "let", "know", "tell", "want", "need", "there", "here", "still", "only",
     "too", "very", "much", "many", "them", "they", "us", "we", "our", "him", "her",
     "his", "their", "coin", "coins", "token", "tokens", "crypto", "market", "markets",
     "up", "down", "into", "out", "off", "back", "today", "tonight", "tomorrow", "week",
     "day", "hour", "minute", "month", "year", "next", "last",
     "past", "within", "per", "again", "am", "pm", "sold", "selling", "bought", "new",
     "old", "big", "small", "time", "times", "way", "thing", "things", "stuff", "guy",
     "poem", "joke", "story", "song", "moon", "weather", "write", "wallet", "number",
     "normal", "average", "usual", "percent", "while", "since", "ago", "right", "soon",
     "like", "look", "looks", "gonna", "wanna", "also", "even", "ever", "yet", "though",
     "because", "but", "same", "other", "another", "such", "own", "mine", "sure",
     "yeah", "yep", "yup", "yea", "alright", "fine", "done", "ahead",
     "please", "thanks", "hello", "bot", "ai", "human", "model", "once", "twice", "said",
     "x", "someone", "people", "guys", "whale", "whales", "exchange", "exchanges",
     "through"}
)  # fmt: skip
"""Everyday words: known, so never "corrected" into something else."""

VENUES = frozenset(
    {"binance", "coinbase", "kraken", "bybit", "okx", "kucoin", "bitfinex", "bitstamp",
     "gate", "gateio", "mexc", "htx", "huobi", "bitget", "gemini", "cryptocom", "upbit",
     "bithumb", "deribit", "hyperliquid", "dydx", "uniswap", "bingx", "phemex", "poloniex"}
)  # fmt: skip
"""Exchanges a trader may name ("BTC on Binance"); the configured one is added."""
