local H = require "spec.lua.helpers"
local cjson = require "cjson.safe"
local tap = H.tap

local MAP = {
  ["<EMAIL_1>"] = "a@b.c",
  ["<PHONE_NUMBER_2>"] = "+1 555 0100",
  ["<PERSON_3>"] = 'Zoë "Z" O\'Neil \\ \n\t end',
}

local function opts(kind, extra)
  local o = { kind = kind or "sse", restore_map = MAP }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- Every data frame of the output must be valid JSON (or [DONE]).
local function assert_valid_frames(out)
  for _, data in ipairs(H.events(out)) do
    if data ~= "[DONE]" then
      local o = cjson.decode(data)
      assert.is_table(o, "invalid frame: " .. data)
    end
  end
end

local HEAD = '{"id":"chatcmpl-X","object":"chat.completion.chunk","created":1733000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":'
local TAIL = '},"logprobs":null,"finish_reason":null}]}'

local function frame(content)
  return "data: " .. HEAD .. '"' .. tap.json_escape(content) .. '"' .. TAIL .. "\n\n"
end

local FINISH = 'data: {"id":"chatcmpl-X","object":"chat.completion.chunk","created":1733000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'

describe("llm-response-tap PII restore (SSE)", function()
  it("restores placeholders split across frames; every chunk split gives the same bytes", function()
    local s = H.fixture("pii.sse")
    local ref = H.reference(s)
    local out, _, r = H.run(opts(), { s })
    assert_valid_frames(out)
    local client = H.reference(out)
    assert.are.equal(H.restore_text(ref.text, MAP), client.text)
    assert.matches("Écrivez à a@b.c ou appelez +1 555 0100—merci 😀" .. MAP["<PERSON_3>"], client.text, 1, true)
    assert.matches("inconnu: <IBAN_9>, pas un tag: <b>, 1 < 2, a@b.c! Fin <EMAIL", client.text, 1, true)
    assert.are.equal(4, r.restored)
    -- the result keeps the upstream text (placeholders, no PII)
    assert.are.equal(ref.text, r.text)
    assert.are.equal(70, r.usage.total_tokens)
    assert.is_true(r.done)
    assert.is_nil(r.restore_errors)
    for i = 0, #s do
      local o2, _, r2 = H.run(opts(), H.split_at(s, i))
      assert.are.equal(out, o2)
      assert.are.same(r, r2)
    end
    for seed = 1, 40 do
      local o3 = H.run(opts(), H.random_chunks(s, seed, seed))
      assert.are.equal(out, o3)
    end
  end)

  it("frames without placeholders are passed byte-for-byte", function()
    local s = H.fixture("pii.sse")
    local out = H.run(opts(), { s })
    local untouched, checked = {}, 0
    for _, e in ipairs(H.events(out)) do untouched[e] = true end
    local evs = H.events(s)
    for i, e in ipairs(evs) do
      -- a frame is only edited if it or the frame before it holds a '<'
      if not e:find("<", 1, true) and not (evs[i - 1] or ""):find("<", 1, true) then
        assert.is_true(untouched[e], "frame changed: " .. e)
        checked = checked + 1
      end
    end
    assert.are.equal(3, checked)
    -- the role frame and the usage frame are unchanged, and so is the start of the stream
    local first = s:sub(1, s:find("\n\n", 1, true) + 1)
    assert.are.equal(first, out:sub(1, #first))
  end)

  it("a placeholder split at every byte offset, across frames and across chunks", function()
    local text = "x é<EMAIL_1>😀 y"
    local want = "x éa@b.c😀 y"
    for k = 0, #text do
      local s = frame(text:sub(1, k)) .. frame(text:sub(k + 1)) .. FINISH
      -- skip frame splits that cut a UTF-8 character (deltas are whole JSON strings)
      if cjson.decode(H.events(s)[1]) and cjson.decode(H.events(s)[2]) then
        local out, _, r = H.run(opts(), { s })
        assert_valid_frames(out)
        assert.are.equal(want, H.reference(out).text)
        assert.are.equal(1, r.restored)
        for i = 0, #s, 3 do
          assert.are.equal(out, (H.run(opts(), H.split_at(s, i))))
        end
      end
    end
    -- one frame, chunked at every byte
    local s = frame(text) .. FINISH
    local out = H.run(opts(), { s })
    for i = 0, #s do
      local o = H.run(opts(), H.split_at(s, i))
      assert.are.equal(out, o)
    end
    assert.are.equal(want, H.reference(out).text)
  end)

  it("placeholder spread over many single-character frames", function()
    local text = "<PHONE_NUMBER_2>é<EMAIL_1><EMAIL_1>"
    local s = ""
    for i = 1, #text do
      local c = text:sub(i, i)
      if c:byte() < 0x80 then s = s .. frame(c) elseif c:byte() >= 0xC0 then s = s .. frame(text:sub(i, i + 1)) end
    end
    s = s .. FINISH
    local out, _, r = H.run(opts(), H.random_chunks(s, 3, 40))
    assert_valid_frames(out)
    assert.are.equal("+1 555 0100éa@b.ca@b.c", H.reference(out).text)
    assert.are.equal(3, r.restored)
  end)

  it("escapes restored values correctly in JSON strings", function()
    local s = frame("name: <PERSON_3>.") .. FINISH
    local out = H.run(opts(), { s })
    assert_valid_frames(out)
    assert.are.equal("name: " .. MAP["<PERSON_3>"] .. ".", H.reference(out).text)
  end)

  it("escaped placeholders (\\u003c ... \\u003e) are found too", function()
    local s = "data: " .. HEAD .. '"mail \\u003cEMAIL_1\\u003e ok"' .. TAIL .. "\n\n" .. FINISH
    for i = 0, #s do
      local out = H.run(opts(), H.split_at(s, i))
      assert.are.equal("mail a@b.c ok", H.reference(out).text)
    end
  end)

  it("text without '<' is emitted without holdback, chunk for chunk", function()
    for _, name in ipairs({ "no-usage.sse", "crlf.sse" }) do
      local s = H.fixture(name)
      for i = 0, #s do
        local chunks = H.split_at(s, i)
        local _, outs = H.run(opts(), chunks)
        assert.are.equal(chunks[1], outs[1])
        assert.are.equal(chunks[2], outs[2])
      end
      for seed = 1, 20 do
        local chunks = H.random_chunks(s, seed, 2 + seed)
        local _, outs = H.run(opts(), chunks)
        for j = 1, #chunks do
          -- only a chunk ending in a backslash (possible start of \u003c) may be delayed
          if chunks[j]:sub(-1) ~= "\\" and (j == 1 or chunks[j - 1]:sub(-1) ~= "\\") then
            assert.are.equal(chunks[j], outs[j])
          end
        end
      end
    end
  end)

  it("holds back only from the '<' while a placeholder may be pending", function()
    local s = frame("Hello <EMA") .. frame("IL_1> bye") .. FINISH
    local cut = s:find("<EMA", 1, true)
    local t = tap.new(opts())
    local o1 = t:feed(s:sub(1, cut + 1), false)
    assert.are.equal(s:sub(1, cut - 1), o1) -- everything before '<' went out at once
    local rest = t:feed(s:sub(cut + 2), true)
    assert.are.equal("Hello a@b.c bye", H.reference(o1 .. rest).text)
  end)

  it("flushes held text before the finish frame, [DONE], or at eof (CRLF kept)", function()
    local s = (frame("Fin <EMAIL") .. FINISH):gsub("\n", "\r\n")
    local out = H.run(opts(), { s })
    assert_valid_frames(out)
    assert.are.equal("Fin <EMAIL", H.reference(out).text)
    assert.is_nil(out:find("[^\r]\n"))
    -- no finish frame, no [DONE]: the synthetic frame ends the stream
    local s2 = frame("Fin <PERSON")
    local out2 = H.run(opts(), { s2 })
    assert_valid_frames(out2)
    assert.are.equal("Fin <PERSON", H.reference(out2).text)
    -- unterminated last frame
    local s3 = frame("Fin <PERSON"):gsub("\n\n$", "")
    local out3 = H.run(opts(), { s3 })
    assert_valid_frames(out3)
    assert.are.equal("Fin <PERSON", H.reference(out3).text)
  end)

  it("restores tool-call arguments with JSON escaping inside the arguments", function()
    local map = { ["<EMAIL_1>"] = 'a"b@c.d', ["<PHONE_NUMBER_2>"] = "+1 555\n0100" }
    local s = H.fixture("tool-calls.sse")
    local out, _, r = H.run({ kind = "sse", restore_map = map }, { s })
    assert_valid_frames(out)
    local client = H.reference(out)
    local args = cjson.decode(client.tools[2].args)
    assert.are.same({ to = 'a"b@c.d', body = "Call +1 555\n0100" }, args)
    assert.are.equal('{"location": "Paris, France"}', client.tools[1].args)
    assert.are.equal(2, r.restored)
    for i = 0, #s do
      assert.are.equal(out, (H.run({ kind = "sse", restore_map = map }, H.split_at(s, i))))
    end
  end)

  it("unknown placeholders and an empty map change nothing", function()
    local s = H.fixture("pii.sse")
    local out, _, r = H.run({ kind = "sse", restore_map = { ["<OTHER_1>"] = "zz" } }, { s })
    assert.are.equal(H.reference(s).text, H.reference(out).text)
    assert.are.equal(0, r.restored)
    local out2 = H.run({ kind = "sse", restore_map = {} }, H.random_chunks(s, 5, 9))
    assert.are.equal(s, out2)
  end)

  it("multi-line data frames are edited in place", function()
    local s = "data: " .. HEAD .. "\ndata: " .. '"to <EMAIL_1>"' .. TAIL .. "\n\n" .. FINISH
    local out = H.run(opts(), H.random_chunks(s, 11, 17))
    assert.are.equal("to a@b.c", H.reference(out).text)
    assert.truthy(out:find("\ndata: \"to a@b.c\"", 1, true))
  end)

  it("oversized frames are streamed through unedited", function()
    local big = string.rep("z", 5000) .. "<EMAIL_1>"
    local s = frame("a <EMA") .. frame(big) .. FINISH
    local out, _, r = H.run(opts("sse", { max_frame_bytes = 4096 }), H.random_chunks(s, 2, 1000))
    assert_valid_frames(out)
    assert.are.equal("a <EMA" .. big, H.reference(out).text)
    assert.are.equal(1, r.bad_frames)
  end)

  it("an internal error turns the tap into a pass-through without losing bytes", function()
    local s = frame("Hello <EMA") .. frame("IL_1> bye") .. frame("more") .. FINISH
    local chunks = H.split_at(s, s:find("<EMA", 1, true) + 2, #frame("Hello <EMA") + 10)
    local t = tap.new(opts())
    local o1 = t:feed(chunks[1], false)
    t._observe = function() error("boom") end
    local o2 = t:feed(chunks[2], false)
    local o3 = t:feed(chunks[3], true)
    assert.are.equal(s, o1 .. o2 .. o3)
    local r = t:result()
    assert.is_true(r.error)
    assert.matches("boom", t.error)
    -- with a pending carry: the held text is emitted as its own frame
    local s2 = frame("Hello <EMA") .. frame("IL_1> bye") .. FINISH
    local t2 = tap.new(opts())
    local cut = #frame("Hello <EMA") + 5
    local a = t2:feed(s2:sub(1, cut), false)
    t2._observe = function() error("boom") end
    local b = t2:feed(s2:sub(cut + 1), true)
    assert_valid_frames(a .. b)
    assert.are.equal("Hello <EMAIL_1> bye", H.reference(a .. b).text)
  end)
end)

describe("llm-response-tap PII restore (JSON)", function()
  it("restores message content and tool-call arguments, every split", function()
    local map = { ["<EMAIL_1>"] = 'a"b@c.d', ["<PERSON_1>"] = "Zoë" }
    local s = H.fixture("chat.json")
    local out, _, r = H.run({ kind = "json", restore_map = map }, { s })
    local o = assert(cjson.decode(out))
    local m = o.choices[1].message
    assert.are.equal('Bonjour Zoë, votre adresse est a"b@c.d (a"b@c.d). Inconnu: <SSN_4>. "Fin" 😀', m.content)
    assert.are.same({ to = 'a"b@c.d', cc = "Zoë" }, cjson.decode(m.tool_calls[1]["function"].arguments))
    assert.are.equal(5, r.restored)
    -- bytes before the first placeholder are untouched and were sent immediately
    local first = s:find("<", 1, true)
    assert.are.equal(s:sub(1, first - 1), out:sub(1, first - 1))
    for i = 0, #s do
      local chunks = H.split_at(s, i)
      local o2, outs = H.run({ kind = "json", restore_map = map }, chunks)
      assert.are.equal(out, o2)
      assert.are.equal(chunks[1]:sub(1, first - 1), outs[1]:sub(1, first - 1))
    end
  end)

  it("JSON without placeholders streams through unchanged", function()
    local s = '{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"plain"},"finish_reason":"stop"}]}'
    for i = 0, #s do
      local chunks = H.split_at(s, i)
      local _, outs, r = H.run({ kind = "json", restore_map = MAP }, chunks)
      assert.are.equal(chunks[1], outs[1])
      assert.are.equal(chunks[2], outs[2])
      assert.are.equal("plain", r.text)
    end
  end)
end)

describe("llm-response-tap PII restore (randomised)", function()
  local PIECES = { "<EMAIL_1>", "<PHONE_NUMBER_2>", "<PERSON_3>", "<EMAIL_12>", "<X_1>", "<", ">", "<<", "<EMAIL_",
                   "é", "😀", "a", " b ", "\\", '"', "\n", "1 < 2", "<b>", "_1>", "<A", string.rep("Z", 70) }
  it("client text equals restoring the whole text, for random deltas and chunkings", function()
    local x = 12345
    local function rnd(n)
      x = (x * 1103515245 + 12345) % 2147483648
      return 1 + x % n
    end
    for _ = 1, 300 do
      local text = {}
      for _ = 1, rnd(12) do text[#text + 1] = PIECES[rnd(#PIECES)] end
      text = table.concat(text)
      -- cut into deltas at random ASCII positions (deltas are whole UTF-8 strings)
      local s, pos = "", 1
      while pos <= #text do
        local e = math.min(#text, pos + rnd(6) - 1)
        while e < #text and text:byte(e + 1) >= 0x80 and text:byte(e + 1) < 0xC0 do e = e + 1 end
        s = s .. frame(text:sub(pos, e))
        pos = e + 1
      end
      s = s .. FINISH
      local out, _, r = H.run(opts(), H.random_chunks(s, rnd(1000), rnd(90)))
      assert_valid_frames(out)
      assert.are.equal(H.restore_text(text, MAP), H.reference(out).text)
      assert.are.equal(text, r.text)
      assert.is_nil(r.restore_errors)
    end
  end)
end)
