"""The offline model understands how traders talk (issue 15): through the real graph,
then piece by piece (words, numbers, coins, times, clarifications)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage

import agent.toolset  # noqa: F401 - registers the tools
from agent.evaluation import recorders
from agent.graph import acting_for, build_agent
from agent.offline import OfflineChatModel
from agent.offline.understanding import Understanding
from agent.offline.vocabulary import SymbolBook

ALERT_AT_4K = "set an alert for eth at 4k"


async def said(text: str) -> AIMessage:
    """What the graph, on the offline model, makes of one message: its first call, or
    its reply."""
    graph = build_agent(lambda node: OfflineChatModel(), recorders(), "test")
    state = await graph.ainvoke({"messages": [HumanMessage(text)]}, acting_for(None))
    new = [m for m in state["messages"][1:] if isinstance(m, AIMessage)]
    calling = next((m for m in new if m.tool_calls), None)
    return calling if calling is not None else new[-1]


@pytest.mark.parametrize(
    ("text", "tool", "arguments"),
    [
        ("price of bitcoin", "get_price", {"symbol": "BTC/USDT"}),
        ("pause my alerts", "pause_alert", {"all": True}),
        ("pause all my alerts", "pause_alert", {"all": True}),
        (
            "alert me if BTC drops 10% today",
            "create_alert",
            {
                "symbol": "BTC/USDT",
                "condition": "percent_change",
                "percent": 10,
                "direction": "down",
                "window_s": 86400,
            },
        ),
    ],
)
async def test_the_messages_it_did_not_understand_become_calls(
    text: str, tool: str, arguments: dict[str, Any]
) -> None:
    reply = await said(text)
    assert [(call["name"], call["args"]) for call in reply.tool_calls] == [(tool, arguments)]


async def test_a_greeting_is_answered_kindly() -> None:
    reply = await said("hi")
    assert not reply.tool_calls
    assert str(reply.content).startswith("Hi!")


async def test_a_level_without_its_side_is_asked_about_not_refused() -> None:
    reply = await said(ALERT_AT_4K)
    assert not reply.tool_calls
    assert str(reply.content) == "ETH/USDT above or below 4,000?"


async def test_what_it_cannot_do_it_says_with_what_it_can() -> None:
    reply = await said("write me a poem about the moon")
    assert not reply.tool_calls
    assert "not something I can do" in str(reply.content)
    assert "price of ETH" in str(reply.content)


# -- piece by piece ------------------------------------------------------------------------

SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "JTO/USDT", "NEAR/USDT", "PEPE/USDT"]
NOW = datetime(2026, 5, 6, 15, 0, tzinfo=UTC)  # a Wednesday


def decide(text: str) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    decision = Understanding(SymbolBook(SYMBOLS)).decide(text, now=NOW)
    return decision.label, [(tool, arguments) for tool, arguments in decision.calls]


@pytest.mark.parametrize(
    ("text", "symbols"),
    [
        ("pirce of etherium", ["ETH/USDT"]),
        ("whats bitcon doing rn", ["BTC/USDT"]),
        ("₿?", ["BTC/USDT"]),
        ("Ξ price pls", ["ETH/USDT"]),
        ("$PEPE", ["PEPE/USDT"]),
        ("jto", ["JTO/USDT"]),  # configured, not a well-known name
        ("how is near doing?", ["NEAR/USDT"]),
        ("btc eth and solana", ["BTC/USDT", "ETH/USDT", "SOL/USDT"]),
        ("ARB/USDT last price?", ["ARB/USDT"]),
        ("ethereum usd", ["ETH/USDT"]),  # the dollar price the system has: no ETH/USD here
    ],
)
def test_coins_by_name_ticker_sign_typo_and_configuration(text: str, symbols: list[str]) -> None:
    label, calls = decide(text)
    assert label == "get_price"
    assert [arguments["symbol"] for _, arguments in calls] == symbols


def test_a_word_that_is_a_coin_only_where_a_coin_fits() -> None:
    assert decide("alert me when eth is near 4k") == ("clarify", [])  # "near 4k": no coin
    assert decide("notify me if near goes above 8")[1][0][1]["symbol"] == "NEAR/USDT"


def test_an_unknown_coin_is_asked_about() -> None:
    decision = Understanding(SymbolBook(SYMBOLS)).decide("price of foocoin")
    assert decision.label == "clarify"
    assert decision.text.startswith('I don\'t know "foocoin". Which coin do you mean?')


@pytest.mark.parametrize(
    ("text", "threshold"),
    [
        ("btc > 100k", 100_000),
        ("alert btc above $95,000", 95_000),
        ("eth below 2.8k", 2_800),
        ("alert me when btc goes above 1.2m", 1_200_000),
        ("doge under 15 cents alert", 0.15),
        ("alert me when sol is over 3000$", 3_000),
        ("ethereum under two thousand five hundred, alert", 2_500),
    ],
)
def test_amounts_with_suffixes_separators_signs_and_words(text: str, threshold: float) -> None:
    label, ((_, arguments),) = decide(text)
    assert label == "create_alert"
    assert arguments["threshold"] == pytest.approx(threshold)


@pytest.mark.parametrize(
    ("text", "window_s", "direction"),
    [
        ("alert sol -5% 15m", 900, "down"),
        ("lmk if pepe pumps 20% in the next hour", 3600, "up"),
        ("alert me if btc moves 3% within half an hour", 1800, "either"),
        ("ping me if eth dumps 10% this week", 604_800, "down"),
        ("alert me when sol rips 5% in 4h", 14_400, "up"),
    ],
)
def test_moves_with_their_windows_and_directions(text: str, window_s: int, direction: str) -> None:
    _, ((_, arguments),) = decide(text)
    assert arguments["condition"] == "percent_change"
    assert (arguments["window_s"], arguments["direction"]) == (window_s, direction)


@pytest.mark.parametrize(
    ("text", "expires_on"),
    [
        ("alert me if eth breaks 5k by friday", NOW.date() + timedelta(days=2)),
        ("notify me if btc goes above 110k today", NOW.date()),
        ("warn me if sol drops below 100 tomorrow", NOW.date() + timedelta(days=1)),
        ("alert me if btc goes above 120k this week", NOW.date() + timedelta(days=4)),
    ],
)
def test_a_level_said_with_a_time_expires_then(text: str, expires_on: object) -> None:
    _, ((_, arguments),) = decide(text)
    assert datetime.fromisoformat(arguments["expires_at"]).date() == expires_on


def test_venue_frequency_and_volume_as_said() -> None:
    _, ((_, once),) = decide("just once, alert me on binance when btc goes above 100k")
    assert (once["venue"], once["frequency"]) == ("binance", "once")
    _, ((_, daily),) = decide("sol above 250, at most once a day")
    assert (daily["frequency"], daily["interval_s"]) == ("at_most_once_per", 86400)
    _, ((_, volume),) = decide("ping me when eth volume spikes 3x")
    assert (volume["condition"], volume["multiple"]) == ("volume_spike", 3)


def test_a_clarification_is_completed_by_the_next_message() -> None:
    understanding = Understanding(SymbolBook(SYMBOLS))
    asked = understanding.decide("alert me at 300")
    assert asked.label == "clarify"
    assert asked.text == 'Above or below 300, and for which coin? (e.g. "SOL above")'
    assert asked.pending is not None
    done = understanding.decide("sol, above", asked.pending)
    assert done.calls == (
        ("create_alert", {"symbol": "SOL/USDT", "condition": "above", "threshold": 300}),
    )


def test_a_clarification_gives_way_to_a_new_request_or_a_never_mind() -> None:
    understanding = Understanding(SymbolBook(SYMBOLS))
    asked = understanding.decide("alert me at 300").pending
    assert understanding.decide("never mind", asked).label == "cancelled"
    instead = understanding.decide("wait, what's sol at now?", asked)
    assert instead.calls == (("get_price", {"symbol": "SOL/USDT"}),)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("buy 0.5 eth", "unsupported"),
        ("should I sell my btc?", "unsupported"),
        ("btc price in euros", "unsupported"),
        ("gm ser", "greeting"),
        ("thnaks a lot 🙏", "thanks"),
        ("what can u do", "help"),
    ],
)
def test_conversation_and_what_it_cannot_do(text: str, label: str) -> None:
    assert decide(text) == (label, [])


# -- unseen messages' causes (a reviewer's 80 messages) ------------------------------------


@pytest.mark.parametrize(
    ("text", "label", "calls"),
    [
        ("how can I watch a wallet?", "help", []),
        ("hold on, keep an eye on the word airdrop", "create_post_alert", [
            ("create_post_alert", {"keyword": "airdrop"})]),
        ("track defi_dad", "follow_account", [
            ("follow_account", {"platform": "x", "handle": "defi_dad"})]),
        ("sol price in pounds?", "unsupported", []),
        ("notify me when SOL/ETH is above 0.06", "unsupported", []),
        ("single-shot alert: eth under 2.5k", "create_alert", [
            ("create_alert", {"symbol": "ETH/USDT", "condition": "below", "threshold": 2500.0,
                              "frequency": "once"})]),
        ("eth above 4k; eth below 3k", "create_alert", [
            ("create_alert", {"symbol": "ETH/USDT", "condition": "above", "threshold": 4000.0}),
            ("create_alert", {"symbol": "ETH/USDT", "condition": "below", "threshold": 3000.0})]),
        ("btc price on kraken", "get_price", [
            ("get_price", {"symbol": "BTC/USDT", "venue": "kraken"})]),
        ("newest tweets on $JTO", "search_posts", [
            ("search_posts", {"query": "JTO", "symbol": "JTO/USDT"})]),
        ("pull up tweets from @cobie", "unsupported", []),
        ("ping me when eth volume tops 20k eth", "unsupported", []),
    ],
)  # fmt: skip
def test_unseen_causes(text: str, label: str, calls: list[tuple[str, dict[str, Any]]]) -> None:
    assert decide(text) == (label, calls)


def test_a_long_message_with_keep_is_no_bare_no() -> None:
    """ "keep" is a no to a confirmation, but a request that says it is a request."""
    label, _ = decide("keep an eye on the keyword etf")
    assert label == "create_post_alert"


def test_a_window_said_after_an_alert_is_about_that_alert() -> None:
    understanding = Understanding(SymbolBook(SYMBOLS))
    decision = understanding.decide("over 4 hours", now=NOW, earlier="ping me if sol moves 3%")
    assert "1 hour" in decision.text
    assert "delete it" in decision.text


@pytest.mark.parametrize(
    ("text", "question"),
    [
        (
            "alert me when btc goes below -5",
            "Prices are above zero, so an alert below -5 could never work. Below which price"
            " for BTC/USDT?",
        ),
        (
            "eth above 0",
            "Prices are above zero, so an alert above 0 could never work. Above which price"
            " for ETH/USDT?",
        ),
    ],
)
def test_a_level_of_zero_or_less_is_asked_again_saying_why(text: str, question: str) -> None:
    """Issue 12: "below -5" became a rule below 5, armed, and the reply said "Done"."""
    understanding = Understanding(SymbolBook(SYMBOLS))
    asked = understanding.decide(text)
    assert (asked.label, asked.calls, asked.text) == ("clarify", (), question)
    done = understanding.decide("90k", asked.pending)
    assert done.calls[0][1]["threshold"] == 90_000


# -- a judge's unseen messages' causes -------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["will eth pump?", "is doge going to 1 dollar", "how low can btc go", "when lambo",
     "could sol reach 300 this year?", "do you think pepe will dump"],
)  # fmt: skip
def test_a_prediction_asked_is_declined_with_an_alert_offered(text: str) -> None:
    """ "is sol going to 500?" fetched SOL's price, as if asked where it is."""
    decision = Understanding(SymbolBook(SYMBOLS)).decide(text, now=NOW)
    assert (decision.label, decision.calls) == ("unsupported", ())
    assert decision.text.startswith("I can't predict prices")


def test_a_prediction_with_a_level_offers_an_alert_at_it() -> None:
    decision = Understanding(SymbolBook(SYMBOLS)).decide("is doge going to 1 dollar", now=NOW)
    assert '"alert me when DOGE goes above 1"' in decision.text


@pytest.mark.parametrize(
    ("text", "keyword"),
    [("watch for mentions of staking", "staking"),
     ("anything mentioning restaking", "restaking"),
     ("keep tabs on mentions of the merge", "merge"),
     ("track the keyword 'rate cut'", "rate cut"),
     ('alert me on the phrase "spot etf"', "spot etf"),
     ("ping me when people talk about “token unlocks”", "token unlocks")],
)  # fmt: skip
def test_mentions_of_a_keyword_are_watched_and_a_quoted_keyword_kept_whole(
    text: str, keyword: str
) -> None:
    """ "watch for mentions of airdrop" listed trending coins; "'etf approval'" became etf."""
    assert decide(text) == ("create_post_alert", [("create_post_alert", {"keyword": keyword})])


@pytest.mark.parametrize(
    ("text", "fact"),
    [("note: i like my alerts on kraken", "i like my alerts on kraken"),
     ("fyi i always trade on okx", "i always trade on okx"),
     ("i usually want alerts when btc drops 5%", "i usually want alerts when btc drops 5%"),
     ("my fav coin is doge", "my fav coin is doge"), ("dont forget i hold 2 eth", "i hold 2 eth")],
)  # fmt: skip
def test_a_preference_or_note_is_remembered_even_about_alerts(text: str, fact: str) -> None:
    """ "note: i prefer alerts on binance" asked what the alert should watch."""
    assert decide(text) == ("remember", [("remember", {"fact": fact})])


@pytest.mark.parametrize(
    "text",
    ["what am i tracking?", "show me my watchlist", "which accounts do i follow", "my watches"],
)
def test_the_users_watches_are_listed(text: str) -> None:
    """ "what am i watching?" had no tool to answer it: a generic reply."""
    assert decide(text) == ("list_watches", [("list_watches", {})])


@pytest.mark.parametrize("text", ["forget everything", "forget all you know about me", "forget me"])
def test_forgetting_everything_is_one_call_confirmed_by_the_tool(text: str) -> None:
    """ "forget everything about me" tried to forget a fact matching "me"."""
    assert decide(text) == ("forget_everything", [("forget_everything", {})])


def test_recent_posts_without_a_subject_ask_which_coin() -> None:
    """ "show me recent posts" was "not something I can do"; the search needs a subject."""
    assert decide("any new posts?") == ("clarify", [])


@pytest.mark.parametrize(
    ("text", "arguments"),
    [("top news this week", {"query": "latest news", "window_s": 604800}),
     ("latest headlines about eth in the last hour",
      {"query": "eth", "symbol": "ETH", "window_s": 3600})],
)  # fmt: skip
def test_news_filler_is_not_the_query_and_its_window_reaches_the_search(
    text: str, arguments: dict[str, Any]
) -> None:
    """ "top news this week" searched for "top this", and its week was lost."""
    assert decide(text) == ("search_knowledge", [("search_knowledge", arguments)])


@pytest.mark.parametrize(
    ("text", "label", "calls"),
    [
        (
            "my $WIF bags are killing me, how bad is it",
            "get_price",
            [("get_price", {"symbol": "WIF/USDT"})],
        ),
        ("kill it", "clarify", []),
        ("my btc alert, remove it", "delete_alert", [("delete_alert", {"symbol": "BTC/USDT"})]),
    ],
)
def test_a_verb_of_deleting_deletes_only_what_it_is_said_of(
    text: str, label: str, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    """ "killing me" is a feeling: a deletion only of an alert, a number or "it"."""
    assert decide(text) == (label, calls)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("wipe all your memory of me", "forget_everything"),
        ("clear your memory", "forget_everything"),
        ("delete everything you know about me", "forget_everything"),
        ("did i tell you what exchange i use?", "recall_memory"),
        ("show me your memory", "recall_memory"),
        ("clear all alerts", "delete_alert"),
        ("what do you know about restaking", "search_knowledge"),
    ],
)
def test_what_it_knows_of_the_user_is_its_memory_whatever_the_verb(text: str, label: str) -> None:
    """ "wipe all your memory of me" deleted every alert; "did i tell you ..." was refused."""
    assert decide(text)[0] == label


def test_funds_are_never_moved_but_a_wallet_that_sends_is_read() -> None:
    """ "send 0.5 eth to 0x…" watched the address it was asked to pay."""
    address = "0x56e9e8817fd812490fdbc8861053134f0f1a9420"
    label, calls = decide(f"send 0.5 eth to {address}")
    assert (label, calls) == ("unsupported", [])
    assert (
        "move funds" in Understanding(SymbolBook(SYMBOLS)).decide(f"send 0.5 eth to {address}").text
    )
    assert decide(f"did {address} send 10 eth today?")[0] == "wallet_activity"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("find anything about the jupiter airdrop eligibility rules", "search_knowledge"),
        ("search for the binance listing rules", "search_knowledge"),
        ("my rules", "list_alerts"),
        ("what are my active rules?", "list_alerts"),
    ],
)
def test_rules_are_alerts_only_when_they_are_the_users(text: str, label: str) -> None:
    """ "... the jupiter airdrop eligibility rules" listed the user's JUP alerts."""
    assert decide(text)[0] == label


def test_an_arrow_joins_a_condition_to_its_request_and_is_no_side() -> None:
    """ "eth moves $150 in 30min -> alert" read "->" as ">": an alert above 150."""
    _, ((_, arguments),) = decide("eth moves $150 in 30min -> alert")
    assert arguments["condition"] == "absolute_move"
    assert (arguments["amount"], arguments["window_s"]) == (150, 1800)
    assert decide("btc > 100k")[1][0][1]["condition"] == "above"


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        ("watch for volume spikes on pepe, like 4x the usual", "volume_spike"),
        ("monitor btc for a 5% dump", "percent_change"),
        ("could you set something up so i hear about it if sol falls below 80 cents", "below"),
        ("set something up in case near drops under 2", "below"),
    ],
)
def test_an_alert_asked_without_an_alert_word(text: str, condition: str) -> None:
    """A coin watched for a condition, "so i hear about it if", "set something up in
    case": all priced the coin instead."""
    label, ((_, arguments),) = decide(text)
    assert (label, arguments["condition"]) == ("create_alert", condition)


@pytest.mark.parametrize(
    ("said", "direction"),
    [
        ("ping me on any transfer in or out of", "either"),
        ("alert me on anything it sends or receives,", "either"),
        ("alert me when it sends more than 10 eth in a day,", "out"),
    ],
)
def test_a_wallets_transfers_both_ways_are_either_direction(said: str, direction: str) -> None:
    """ "in or out" watched only what the wallet sends."""
    address = "0xa4ffa3b019a8b45f626a82d311641718a8b78a5e"
    _, ((_, arguments),) = decide(f"{said} {address}")
    assert arguments["direction"] == direction


def test_fees_alone_are_the_fees_collected_not_an_exchanges() -> None:
    """ "fees last 30d?" was refused: only "fees collected" was understood."""
    assert decide("fees last 30d?") == (
        "fees_collected",
        [("fees_collected", {"window_s": 2592000})],
    )
    assert decide("binance fees")[0] == "unsupported"


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("anything on twitter about the solana unlock this week", "unlock"),
        ("what are people saying about the eth etf flows", "etf flows"),
        ("what's the vibe around pepe today", "PEPE"),
    ],
)
def test_a_coins_posts_are_searched_by_the_topic_said_with_it(text: str, query: str) -> None:
    """ "the hyperliquid unlock" searched all HYPE posts: the topic was dropped."""
    _, ((_, arguments),) = decide(text)
    assert arguments["query"] == query


def test_an_account_followed_is_asked_as_a_handle_and_answered_by_one() -> None:
    """ "can you follow that account?" asked for a wallet's address, then read the
    handle given as a wallet answer."""
    understanding = Understanding(SymbolBook(SYMBOLS))
    asked = understanding.decide("can you follow that account?", now=NOW)
    assert asked.text == "Which account should I follow? Send its @handle."
    done = understanding.decide("@EmberCN on x", asked.pending, now=NOW)
    assert done.calls == (("follow_account", {"platform": "x", "handle": "EmberCN"}),)
    assert understanding.decide("EmberCN", asked.pending, now=NOW).calls == done.calls
    assert understanding.decide("thanks", asked.pending, now=NOW).label == "thanks"


def test_it_after_a_wallet_is_that_wallet() -> None:
    """ "track 0x…" then "alert me if it dumps more than 1m usdt out" asked for a coin."""
    address = "0x72a7773a7ebd9c3da2f67629163939bb48c18049"
    understanding = Understanding(SymbolBook(SYMBOLS))
    said = "and alert me if it dumps more than 1m usdt out"
    alert = understanding.decide(said, now=NOW, earlier=f"track {address} ser")
    wanted = {"address": address, "direction": "out", "min_amount": 1_000_000, "token": "USDT"}
    assert alert.calls == (("create_wallet_alert", wanted),)
    price = understanding.decide("eth, what is it at?", now=NOW, earlier=f"watch {address}")
    assert price.calls == (("get_price", {"symbol": "ETH/USDT"}),)


@pytest.mark.parametrize(
    ("text", "label", "condition"),
    [
        ("alert me when btc hits 100k", "create_alert", "reaches"),
        ("ping me if eth touches 5k", "create_alert", "reaches"),
        ("tell me when sol gets to 300", "create_alert", "reaches"),
        ("set an alert for eth at 4k", "clarify", None),
        ("alert me when sol crosses 200", "clarify", None),
    ],
)
def test_a_level_to_reach_leaves_its_side_to_the_tool(
    text: str, label: str, condition: str | None
) -> None:
    """ "hits 100k" was asked "above or below?": the price gets there from wherever it
    is, and the tool knows where that is; "at 4k" and a crossing stay asked."""
    made, calls = decide(text)
    assert made == label
    assert [arguments.get("condition") for _, arguments in calls] == (
        [condition] if condition else []
    )


def test_an_alert_told_of_is_an_alert_not_a_memory() -> None:
    """ "delete the alert i told you about" recalled the memory: it names an alert."""
    assert decide("delete the alert i told you about") == ("clarify", [])
    assert decide("did i tell you what exchange i use?")[0] == "recall_memory"


def test_in_slash_out_is_both_ways_not_a_pair() -> None:
    address = "0x72a7773a7ebd9c3da2f67629163939bb48c18049"
    made, calls = decide(f"ping me on transfers in/out of {address}")
    wanted = {"address": address, "direction": "either"}
    assert (made, calls) == ("create_wallet_alert", [("create_wallet_alert", wanted)])


def test_a_name_no_word_spells_answers_which_account() -> None:
    understanding = Understanding(SymbolBook(SYMBOLS))
    asked = understanding.decide("follow someone for me", now=NOW)
    done = understanding.decide("lookonchain", asked.pending, now=NOW)
    assert done.calls == (("follow_account", {"platform": "x", "handle": "lookonchain"}),)
    assert understanding.decide("okay", asked.pending, now=NOW).calls == ()


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("corn px?", "get_price"),  # bitcoin's nickname
        ("alert pepe above 0.00002", "create_alert"),  # a word-coin right after "alert"
        ("eth drops 150 bucks in 10 mins = i wanna know", "create_alert"),
        ("Can I get notified when INJ volume is 5 times its average?", "create_alert"),
        ("i wanna hear about any tweet saying 'airdrop' over 1k likes", "create_post_alert"),
        ("has 0xdb16b99e6e019aec018ecf758dd64f271cb72393 moved in the past 3 days??", (
            "wallet_activity")),
        ("I'm holding 40 SOL long term, so keep that in mind", "remember"),
        ("what did i tell you about my eth bag?", "recall_memory"),
        ("wat coins r ppl shilling last 4 hrs", "trending_symbols"),
        ("whats btc funding rate on perps rn", "unsupported"),
        ("what can this thing do", "help"),
    ],
)  # fmt: skip
def test_the_fourth_judges_causes(text: str, label: str) -> None:
    """Each cause of a miss on the fourth judge's unseen messages, in other words too."""
    assert decide(text)[0] == label


def test_a_follow_up_repeats_the_request_before_it() -> None:
    """ "same for eth at 5k", "he" for the account just followed, a window after a read."""
    understanding = Understanding(SymbolBook(SYMBOLS))
    same = understanding.decide("same for eth at 5k", now=NOW, earlier="alert when btc hits 120k")
    wanted = {"symbol": "ETH/USDT", "condition": "reaches", "threshold": 5000.0}
    assert same.calls == (("create_alert", wanted),)
    he = understanding.decide(
        "and ping me when he mentions $ENA", now=NOW, earlier="follow cobie on twitter please"
    )
    assert he.calls == (("create_post_alert", {"account": "cobie", "keyword": "ENA"}),)
    fees = understanding.decide(
        "and over the last 30 days?", now=NOW, earlier="how much in fees did we collect?"
    )
    assert fees.calls == (("fees_collected", {"window_s": 30 * 86_400}),)
    alone = understanding.decide("same for eth", now=NOW)  # nothing before: a price
    assert alone.calls == (("get_price", {"symbol": "ETH/USDT"}),)
    spot = understanding.decide("whats btc funding rate on perps rn", now=NOW)
    assert spot.text.startswith("I have spot prices only: no funding rates")
