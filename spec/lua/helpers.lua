-- Shared helpers for the tap specs: fixtures, a naive whole-body reference parser
-- (independent of the incremental one) and feeding helpers.
local cjson = require "cjson.safe"

local H = {}

local root = os.getenv("REPO_ROOT") or "."
package.path = root .. "/?.lua;" .. root .. "/?/init.lua;" .. package.path

H.tap = require "kong.plugins.llm-response-tap.tap"

function H.fixture(name)
  local f = assert(io.open(root .. "/spec/fixtures/sse/" .. name, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- Reference: split the whole stream into events, decode every data payload.
function H.events(s)
  s = s:gsub("\r\n", "\n")
  local evs = {}
  for block in (s .. "\n\n"):gmatch("(.-)\n\n") do
    local data
    for line in (block .. "\n"):gmatch("(.-)\n") do
      local v = line:match("^data: ?(.*)$")
      if v then data = data and (data .. "\n" .. v) or v end
    end
    if data then evs[#evs + 1] = data end
  end
  return evs
end

function H.reference(s)
  local r = { text = {}, tools = {}, frames = 0 }
  for _, data in ipairs(H.events(s)) do
    r.frames = r.frames + 1
    if data == "[DONE]" then r.done = true end
    local o = cjson.decode(data)
    if type(o) == "table" then
      if type(o.usage) == "table" then r.usage = o.usage end
      for _, ch in ipairs(type(o.choices) == "table" and o.choices or {}) do
        local d = ch.delta
        if ch.index == 0 and type(d) == "table" then
          if type(d.content) == "string" then r.text[#r.text + 1] = d.content end
          for _, tc in ipairs(type(d.tool_calls) == "table" and d.tool_calls or {}) do
            local t = r.tools[tc.index + 1] or { args = "" }
            r.tools[tc.index + 1] = t
            if type(tc.id) == "string" then t.id = tc.id end
            if type(tc["function"]) == "table" then
              if type(tc["function"].name) == "string" then t.name = tc["function"].name end
              t.args = t.args .. (tc["function"].arguments or "")
            end
          end
        end
        if type(ch.finish_reason) == "string" then r.finish_reason = ch.finish_reason end
      end
    end
  end
  r.text = table.concat(r.text)
  return r
end

-- Feed chunks; returns concatenated output, per-chunk outputs, result.
function H.run(opts, chunks)
  local t = H.tap.new(opts)
  local outs = {}
  for i, c in ipairs(chunks) do outs[i] = t:feed(c, i == #chunks) end
  if #chunks == 0 then outs[1] = t:feed("", true) end
  return table.concat(outs), outs, t:result({ status = 200 }), t
end

function H.split_at(s, ...)
  local cuts, chunks, prev = { ... }, {}, 0
  for _, c in ipairs(cuts) do
    chunks[#chunks + 1] = s:sub(prev + 1, c)
    prev = c
  end
  chunks[#chunks + 1] = s:sub(prev + 1)
  return chunks
end

-- Deterministic pseudo-random chunking (LCG) so failures reproduce.
function H.random_chunks(s, seed, maxlen)
  local chunks, pos, x = {}, 1, seed
  while pos <= #s do
    x = (x * 1103515245 + 12345) % 2147483648
    local n = 1 + x % maxlen
    chunks[#chunks + 1] = s:sub(pos, pos + n - 1)
    pos = pos + n
  end
  return chunks
end

function H.restore_text(text, map)
  return (text:gsub("<%u[%u%d_]*_%d+>", function(ph) return map[ph] end))
end

return H
