local H = require "spec.lua.helpers"
local cjson = require "cjson.safe"
local tap = H.tap

local function sse(extra)
  local o = { kind = "sse" }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local function check_against_reference(res, ref)
  assert.are.equal(ref.text, res.text)
  assert.are.equal(#ref.text, res.text_bytes)
  assert.is_false(res.text_truncated)
  assert.are.equal(ref.finish_reason, res.finish_reason)
  assert.are.equal(ref.done == true, res.done)
  if ref.usage then
    assert.are.same({
      prompt_tokens = ref.usage.prompt_tokens,
      completion_tokens = ref.usage.completion_tokens,
      total_tokens = ref.usage.total_tokens,
      cached_tokens = type(ref.usage.prompt_tokens_details) == "table" and ref.usage.prompt_tokens_details.cached_tokens or nil,
      reasoning_tokens = type(ref.usage.completion_tokens_details) == "table" and ref.usage.completion_tokens_details.reasoning_tokens or nil,
    }, res.usage)
  else
    assert.is_nil(res.usage)
  end
end

describe("llm-response-tap SSE parsing", function()
  it("runs under LuaJIT (as Kong does)", function()
    assert.is_table(jit)
    assert.are.equal("Lua 5.1", _VERSION)
  end)

  for _, name in ipairs({ "basic.sse", "crlf.sse", "no-usage.sse", "tool-calls.sse", "pii.sse" }) do
    it(name .. ": every split position gives identical results and untouched bytes", function()
      local s = H.fixture(name)
      local ref = H.reference(s)
      local _, _, whole = H.run(sse(), { s })
      check_against_reference(whole, ref)
      assert.are.equal(ref.frames, whole.frames)
      assert.are.equal(0, whole.bad_frames)
      assert.are.equal(#s, whole.bytes)
      for i = 0, #s do
        local out, outs, res = H.run(sse(), H.split_at(s, i))
        assert.are.equal(s:sub(1, i), outs[1])
        assert.are.equal(s, out)
        assert.are.same(whole, res)
      end
      -- three-way splits around every position, and random chunkings
      for i = 1, #s - 1, 7 do
        local _, _, res = H.run(sse(), H.split_at(s, i, math.min(#s, i + 13)))
        assert.are.same(whole, res)
      end
      for seed = 1, 30 do
        local out, _, res = H.run(sse(), H.random_chunks(s, seed, 1 + seed * 3))
        assert.are.equal(s, out)
        assert.are.same(whole, res)
      end
      local bytes = {}
      for i = 1, #s do bytes[i] = s:sub(i, i) end
      local _, _, res = H.run(sse(), bytes)
      assert.are.same(whole, res)
    end)
  end

  it("reads usage incl. cached and reasoning tokens, id and model", function()
    local _, _, r = H.run(sse(), { H.fixture("basic.sse") })
    assert.are.same({ prompt_tokens = 1117, completion_tokens = 46, total_tokens = 1163,
                      cached_tokens = 1024, reasoning_tokens = 0 }, r.usage)
    assert.are.equal("chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", r.id)
    assert.are.equal("gpt-4o-2024-08-06", r.model)
    assert.are.equal("stop", r.finish_reason)
    assert.are.equal(9, r.frames)
    assert.is_true(r.done)
    assert.is_false(r.aborted)
    assert.are.equal("sse", r.kind)
    assert.are.equal(200, r.status)
    assert.are.equal(0, r.restored)
    assert.matches('"citation"\\n\n\tsuite', r.text, 1, true)
    assert.matches("a < b && c > d, été.", r.text, 1, true)
    local _, _, c = H.run(sse(), { H.fixture("crlf.sse") })
    assert.are.equal(192, c.usage.reasoning_tokens)
    assert.are.equal("length", c.finish_reason)
    assert.are.equal("The answer is 42.", c.text)
  end)

  it("stream without usage: usage nil, still done", function()
    local _, _, r = H.run(sse(), { H.fixture("no-usage.sse") })
    assert.is_nil(r.usage)
    assert.is_true(r.done)
    assert.are.equal("Hi there", r.text)
  end)

  it("tool calls are assembled by index", function()
    local _, _, r = H.run(sse(), { H.fixture("tool-calls.sse") })
    assert.are.equal("tool_calls", r.finish_reason)
    assert.are.same({
      { id = "call_DdmO9pD3xa9XTPNJ32zg2hcA", name = "get_weather", arguments = '{"location": "Paris, France"}' },
      { id = "call_8vbB3a1TQ3Ow3hxmG3ZC0ZcK", name = "send_email",
        arguments = '{"to": "<EMAIL_1>", "body": "Call <PHONE_NUMBER_2>"}' },
    }, r.tool_calls)
    assert.are.equal(85, r.usage.prompt_tokens)
  end)

  it("garbage, comments, events and multi-line data", function()
    local s = H.fixture("garbage.sse")
    for i = 0, #s do
      local out, _, r = H.run(sse(), H.split_at(s, i))
      assert.are.equal(s, out)
      assert.are.equal("Multi-line ok", r.text)
      assert.are.equal(9, r.frames)
      assert.are.equal(4, r.bad_frames)
      assert.are.same({ prompt_tokens = 9, completion_tokens = 3, total_tokens = 12 }, r.usage)
      assert.are.equal("stop", r.finish_reason)
      assert.is_true(r.done)
    end
  end)

  it("a stream cut before [DONE] is not done; an unterminated last event still counts", function()
    local s = H.fixture("no-usage.sse")
    local cut = s:sub(1, s:find("data: [DONE]", 1, true) - 1)
    local _, _, r = H.run(sse(), { cut })
    assert.is_false(r.done)
    assert.are.equal("Hi there", r.text)
    local _, _, r2 = H.run(sse(), { (s:gsub("\n+$", "")) })
    assert.is_true(r2.done)
  end)

  it("huge frames: skipped above max_frame_bytes, text capped at max_text_bytes", function()
    local big = string.rep("é", 1024 * 1024) -- 2 MiB of 2-byte characters
    local head = H.fixture("no-usage.sse")
    local frame = 'data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"'
      .. big .. '"},"finish_reason":null}]}\n\n'
    local s = head:gsub("data: %[DONE%]", function() return frame .. "data: [DONE]" end)
    local chunks = H.random_chunks(s, 7, 16384)
    local t0 = os.clock()
    local out, _, r = H.run(sse(), chunks)
    assert.is_true(os.clock() - t0 < 2)
    assert.are.equal(s, out)
    assert.are.equal(1, r.bad_frames)
    assert.are.equal("Hi there", r.text)
    assert.is_true(r.done)
    -- with a large frame cap the frame is parsed and the text is truncated on a char boundary
    local out2, _, r2 = H.run(sse({ max_frame_bytes = 8 * 1024 * 1024, max_text_bytes = 1000001 }), chunks)
    assert.are.equal(s, out2)
    assert.are.equal(0, r2.bad_frames)
    assert.is_true(r2.text_truncated)
    assert.are.equal(1000000, #r2.text)
    assert.are.equal(#"Hi there" + #big, r2.text_bytes)
    -- keep_text = false keeps nothing but still counts
    local _, _, r3 = H.run(sse({ keep_text = false }), { H.fixture("basic.sse") })
    assert.is_nil(r3.text)
    assert.is_true(r3.text_bytes > 0)
  end)

  it("measures time to first token with the injected clock", function()
    local now = 1000
    local t = tap.new(sse({ clock = function() return now end, start_ms = 400 }))
    local s = H.fixture("no-usage.sse")
    local i = s:find("Hi", 1, true)
    t:feed(s:sub(1, i - 20), false)
    now = 1250
    t:feed(s:sub(i - 19), true)
    assert.are.equal(850, t:result().ttft_ms)
  end)

  it("other content types pass through", function()
    local out, _, r = H.run({ kind = "other" }, { "abc", "def" })
    assert.are.equal("abcdef", out)
    assert.are.equal("other", r.kind)
    assert.are.equal(6, r.bytes)
    assert.are.equal("sse", tap.detect_kind("text/event-stream; charset=utf-8"))
    assert.are.equal("json", tap.detect_kind("application/json"))
    assert.are.equal("json", tap.detect_kind({ "application/problem+json" }))
    assert.are.equal("other", tap.detect_kind("application/json", "gzip"))
    assert.are.equal("other", tap.detect_kind(nil))
  end)
end)

describe("llm-response-tap JSON bodies", function()
  it("extracts usage, text, tool calls at eof for every split", function()
    local s = H.fixture("chat.json")
    for i = 0, #s do
      local out, outs, r = H.run({ kind = "json" }, H.split_at(s, i))
      assert.are.equal(s:sub(1, i), outs[1])
      assert.are.equal(s, out)
      assert.are.equal("json", r.kind)
      assert.is_true(r.done)
      assert.are.equal("tool_calls", r.finish_reason)
      assert.are.same({ prompt_tokens = 19, completion_tokens = 10, total_tokens = 29, cached_tokens = 0,
                        reasoning_tokens = 0 }, r.usage)
      assert.are.equal("gpt-4.1-2025-04-14", r.model)
      assert.matches("<EMAIL_1> (<EMAIL_1>)", r.text, 1, true)
      assert.are.equal("send_email", r.tool_calls[1].name)
    end
  end)

  it("bodies above max_json_bytes pass through unparsed", function()
    local s = H.fixture("chat.json")
    local out, _, r = H.run({ kind = "json", max_json_bytes = 100 }, { s:sub(1, 50), s:sub(51) })
    assert.are.equal(s, out)
    assert.is_false(r.done)
    assert.is_true(r.json_truncated)
    assert.is_nil(r.usage)
  end)

  it("invalid JSON is not done and does not break", function()
    local out, _, r = H.run({ kind = "json" }, { "{not json" })
    assert.are.equal("{not json", out)
    assert.is_false(r.done)
  end)
end)
