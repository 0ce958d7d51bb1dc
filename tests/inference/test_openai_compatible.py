"""The OpenAI-compatible backend against a real scripted server on loopback."""

from __future__ import annotations

import asyncio

import pytest

from playground.inference.base import ChatRequest, InferenceError, Message
from playground.inference.openai_compatible import OpenAICompatibleBackend
from playground.testing.upstream import Fail, Reply, ScriptedUpstream
from tests.conftest import TEST_KEY

REQUEST = ChatRequest(messages=(Message("user", "hello"),))
READER = {"reader": "lean"}


@pytest.fixture(autouse=True, params=["lean", "sdk"])
def reader(request: pytest.FixtureRequest) -> str:
    """Every behaviour holds on both readers: the lean one and the SDK's (proxies...)."""
    READER["reader"] = request.param
    return str(request.param)


def backend(up: ScriptedUpstream, **kw: object) -> OpenAICompatibleBackend:
    options: dict = {
        "base_url": up.base_url,
        "model": "gpt-test",
        "api_key": TEST_KEY,
        "timeout": 5.0,
        "reader": READER["reader"],
    }
    options.update(kw)
    return OpenAICompatibleBackend(**options)


async def collect(b: OpenAICompatibleBackend) -> tuple[str, list]:
    deltas = [d async for d in b.stream(REQUEST)]
    return "".join(d.text for d in deltas), deltas


async def test_it_streams_text_deltas_and_reports_usage(upstream: ScriptedUpstream) -> None:
    upstream.script(Reply(tokens=["Hel", "lo", " wor", "ld"], usage={"prompt_tokens": 7}))
    b = backend(upstream)
    text, deltas = await collect(b)
    await b.aclose()
    assert text == "Hello world"
    assert sum(d.tokens for d in deltas) == 4
    assert deltas[-1].usage is not None and deltas[-1].usage.prompt_tokens == 7
    assert any(d.finish_reason == "stop" for d in deltas)
    body = upstream.requests[-1].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


async def test_turns_reuse_one_pooled_connection(upstream: ScriptedUpstream) -> None:
    b = backend(upstream)
    for _ in range(3):
        upstream.script(Reply(text="ok"))
        await collect(b)
    await b.aclose()
    peers = {r.headers.get("x-peer") or r.peer for r in upstream.requests}
    assert len(peers) == 1, f"opened {len(peers)} connections for 3 turns"


async def test_the_key_is_sent_only_as_the_bearer_token_to_its_base_url(
    upstream: ScriptedUpstream,
) -> None:
    upstream.configure(api_key="another-key")
    b = backend(upstream)
    with pytest.raises(InferenceError) as info:
        await collect(b)
    await b.aclose()
    assert upstream.requests[-1].api_key == TEST_KEY
    assert TEST_KEY not in str(info.value) and TEST_KEY not in info.value.message
    assert info.value.code == "upstream.auth" and not info.value.retryable


@pytest.mark.parametrize(
    ("fail", "code", "retryable"),
    [
        (Fail("status", 404), "upstream.model_not_found", False),
        (Fail("status", 400), "upstream.bad_request", False),
        (Fail("status", 429, retry_after=3), "upstream.rate_limited", True),
        (Fail("status", 500), "upstream.server_error", True),
        (Fail("drop", after=2), "upstream.interrupted", True),
        (Fail("truncate", after=2), "upstream.interrupted", True),
        (Fail("error_event", after=2), "upstream.server_error", True),
        (Fail("close"), "upstream.interrupted", True),
    ],
)
async def test_upstream_failures_map_to_one_error_type(
    upstream: ScriptedUpstream, fail: Fail, code: str, retryable: bool
) -> None:
    upstream.script(Reply(lorem=10, fail=fail))
    b = backend(upstream)
    with pytest.raises(InferenceError) as info:
        await collect(b)
    await b.aclose()
    assert (info.value.code, info.value.retryable) == (code, retryable)
    if code == "upstream.rate_limited":
        assert info.value.retry_after == 3


async def test_a_server_that_never_answers_times_out(upstream: ScriptedUpstream) -> None:
    upstream.script(Reply(fail=Fail("hang", seconds=5)))
    b = backend(upstream, timeout=0.3)
    with pytest.raises(InferenceError) as info:
        await collect(b)
    await b.aclose()
    assert info.value.code == "upstream.timeout"


async def test_closing_the_iterator_closes_the_upstream_stream(upstream: ScriptedUpstream) -> None:
    upstream.script(Reply(lorem=100_000, rate=2000))
    b = backend(upstream)
    stream = b.stream(REQUEST)
    async for _ in stream:
        break
    await stream.aclose()
    await upstream.wait_idle_async()
    await b.aclose()
    record = upstream.streams[-1]
    assert record.client_disconnected and record.tokens_emitted < 1000


async def test_cancelling_the_reader_task_closes_the_upstream_stream(
    upstream: ScriptedUpstream,
) -> None:
    upstream.script(Reply(lorem=100_000, rate=2000))
    b = backend(upstream)

    async def read() -> None:
        async for _ in b.stream(REQUEST):
            pass

    task = asyncio.create_task(read())
    # Cancel once the answer is streaming (on a loaded machine that takes a while).
    for _ in range(1000):
        if upstream.streams:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await upstream.wait_idle_async()
    await b.aclose()
    assert upstream.streams[-1].client_disconnected


# --- issue #12: upstream text is hostile -------------------------------------------------


async def test_an_error_event_quoting_the_key_never_carries_it(upstream: ScriptedUpstream) -> None:
    upstream.script(
        Reply(
            lorem=5,
            fail=Fail(
                "error_event",
                after=2,
                message=f"Bad request; headers were Authorization: Bearer {TEST_KEY}, "
                "x-api-key=sk-other-0123456789abcdef and token Bearer abc123def456ghi",
            ),
        )
    )
    b = backend(upstream)
    with pytest.raises(InferenceError) as info:
        await collect(b)
    await b.aclose()
    message = info.value.message
    assert info.value.code == "upstream.server_error"
    assert TEST_KEY not in message and "sk-other" not in message and "abc123def456" not in message
    assert "Authorization: [redacted]" in message and "mid-stream" in message


async def test_the_configured_key_is_scrubbed_from_the_answer_even_split_across_reads(
    upstream: ScriptedUpstream,
) -> None:
    half = len(TEST_KEY) // 2
    upstream.script(
        Reply(tokens=["the key is ", TEST_KEY[:half], TEST_KEY[half:], " ok"], rate=20, chunk=1)
    )
    b = backend(upstream)
    text, _ = await collect(b)
    await b.aclose()
    assert text == "the key is [redacted] ok"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"data: {not json\n\n", "not JSON"),
        (b"data: 42\n\n", "not a JSON object"),
        (b'data: {"choices": "nope"}\n\n', "not a list"),
        (b'data: {"choices": [{"delta": {"content": 5}}]}\n\n', "not text"),
        (b'data: {"choices": [], "usage": {"prompt_tokens": "many"}}\n\n', "not numbers"),
        (b"data: " + b"x" * (20 * 1024 * 1024) + b"\n\n", "line over"),
        (b"data: " + b"x" * (20 * 1024 * 1024), "line over"),  # and never a newline
    ],
    ids=["not-json", "a-number", "choices-string", "content-number", "usage", "20MB", "20MB-open"],
)
async def test_bad_upstream_output_is_a_bad_response_not_flints_bug(
    upstream: ScriptedUpstream, raw: bytes, says: str
) -> None:
    upstream.script(Reply(tokens=["fine ", "so far"], fail=Fail("raw", after=2, raw=raw)))
    b = backend(upstream)
    texts: list[str] = []

    async def read() -> None:
        async for delta in b.stream(REQUEST):
            texts.append(delta.text)

    with pytest.raises(InferenceError) as info:
        await read()
    await b.aclose()
    assert info.value.code == "upstream.bad_response" and info.value.retryable is False
    assert says in info.value.message and "OpenAI-compatible" in info.value.message
    assert "".join(texts) == "fine so far", "the text before the bad line is kept"


@pytest.mark.parametrize("value", ["soon", "nan", "inf", "1e400", "Mon, 99 Foo 2024"])
async def test_an_unreadable_retry_after_is_ignored_not_a_crash(
    upstream: ScriptedUpstream, value: str
) -> None:
    upstream.script(Reply(fail=Fail("status", 429, retry_after=value)))
    b = backend(upstream)
    with pytest.raises(InferenceError) as info:
        await collect(b)
    await b.aclose()
    assert info.value.code == "upstream.rate_limited" and info.value.retry_after is None


async def test_a_404_from_a_base_url_without_v1_says_so(upstream: ScriptedUpstream) -> None:
    # The scripted server answers only under /v1 and at the root: /api is a wrong path.
    wrong = upstream.base_url.removesuffix("/v1") + "/api"
    b = backend(upstream, base_url=wrong)
    with pytest.raises(InferenceError) as info:
        await collect(b)
    await b.aclose()
    assert info.value.code == "upstream.model_not_found"
    assert "does not end in /v1" in info.value.message
    assert "FLINT_BASE_URL" in info.value.message


async def test_a_404_under_v1_is_an_unknown_model(upstream: ScriptedUpstream) -> None:
    upstream.script(Reply(fail=Fail("status", 404)))
    b = backend(upstream)
    with pytest.raises(InferenceError) as info:
        await collect(b)
    await b.aclose()
    assert "does not know the model 'gpt-test'" in info.value.message
    assert "/v1" not in info.value.message
