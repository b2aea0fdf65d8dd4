-- Throughput of the pure llm-response-tap module (kong/plugins/llm-response-tap/tap.lua).
-- Run from the repo root:  luajit scripts/bench-tap.lua [--append docs/benchmarks-tap.md]
-- Prints MB/s of input and microseconds per body_filter chunk for realistic OpenAI streams.
package.path = "./?.lua;" .. package.path
local tap = require "kong.plugins.llm-response-tap.tap"

local append_to
for i = 1, #arg do
  if arg[i] == "--append" then append_to = arg[i + 1] end
end

local HEAD = 'data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,'
  .. '"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_f9f4fb6dbf","choices":[{"index":0,'
  .. '"delta":{"content":"'
local TAIL = '"},"logprobs":null,"finish_reason":null}],"usage":null}\n\n'
local WORDS = { " the", " gateway", " streams", " tokens", " quickly", ",", " and", " café", " 😀", " résumé", "\\n", " data" }

-- n frames of 1-3 words each; every `ph_every` frames a placeholder split over two frames
local function stream(n, ph_every)
  local parts, x = {}, 7
  for i = 1, n do
    x = (x * 1103515245 + 12345) % 2147483648
    local c = WORDS[1 + x % #WORDS] .. (x % 3 == 0 and WORDS[1 + (x / 7) % #WORDS - (x / 7) % 1] or "")
    if ph_every and i % ph_every == 0 then c = c .. " <EMA" elseif ph_every and i % ph_every == 1 and i > 1 then c = "IL_1>" .. c end
    parts[#parts + 1] = HEAD .. c .. TAIL
  end
  parts[#parts + 1] = 'data: {"id":"chatcmpl-B9","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":1117,"completion_tokens":46,"total_tokens":1163}}\n\ndata: [DONE]\n\n'
  return table.concat(parts)
end

local function chunks_by_frame(s)
  local out = {}
  for f in s:gmatch("(.-\n\n)") do out[#out + 1] = f end
  return out
end

local function chunks_fixed(s, size)
  local out = {}
  for i = 1, #s, size do out[#out + 1] = s:sub(i, i + size - 1) end
  return out
end

local function bench(label, kind, chunks, total, opts)
  local reps = math.max(1, math.floor(64 * 1048576 / total)) -- ~64 MiB per case
  local t0 = os.clock()
  local out_bytes = 0
  for _ = 1, reps do
    local o = { kind = kind }
    for k, v in pairs(opts or {}) do o[k] = v end
    local t = tap.new(o)
    for i = 1, #chunks do out_bytes = out_bytes + #t:feed(chunks[i], i == #chunks) end
    assert(t:result().done)
  end
  local dt = os.clock() - t0
  local mbs = total * reps / 1048576 / dt
  local us = dt * 1e6 / (#chunks * reps)
  return string.format("| %-44s | %9.1f | %8.2f | %7d |", label, mbs, us, #chunks)
end

local MAP = { ["<EMAIL_1>"] = "a@b.c" }
local plain = stream(2000)
local pii = stream(2000, 50)
local rows = {
  "| case | MB/s | µs/chunk | chunks |",
  "|---|---:|---:|---:|",
  bench("SSE observe, 1 frame per chunk", "sse", chunks_by_frame(plain), #plain),
  bench("SSE observe, 4 KiB chunks", "sse", chunks_fixed(plain, 4096), #plain),
  bench("SSE observe, 61-byte chunks (frames split)", "sse", chunks_fixed(plain, 61), #plain),
  bench("SSE restore map, no placeholders, 1 frame/chunk", "sse", chunks_by_frame(plain), #plain, { restore_map = MAP }),
  bench("SSE restore, split placeholder every 50 frames", "sse", chunks_by_frame(pii), #pii, { restore_map = MAP }),
  bench("SSE restore, same, 61-byte chunks", "sse", chunks_fixed(pii, 61), #pii, { restore_map = MAP }),
}
do
  local content = ("Lorem ipsum dolor sit amet, <EMAIL_1> consectetur. "):rep(20000)
  local body = '{"id":"x","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"'
    .. content .. '"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}'
  rows[#rows + 1] = bench("JSON 1 MiB body observe, 16 KiB chunks", "json", chunks_fixed(body, 16384), #body)
  rows[#rows + 1] = bench("JSON 1 MiB body restore (20k placeholders)", "json", chunks_fixed(body, 16384), #body, { restore_map = MAP })
end

local function sh(cmd)
  local p = io.popen(cmd)
  local s = p and p:read("*a") or ""
  if p then p:close() end
  return (s:gsub("%s+$", ""))
end

local header = {
  "",
  "## " .. os.date("!%Y-%m-%d %H:%M UTC"),
  "",
  "- machine: " .. sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'") .. ", " .. sh("nproc") .. " cores (shared)",
  "- luajit: " .. sh("luajit -v"),
  "- command: `luajit scripts/bench-tap.lua --append docs/benchmarks-tap.md` (os.clock CPU time, ~64 MiB input per case)",
  "- stream: " .. #plain .. " bytes, 2001 frames of ~" .. math.floor(#plain / 2001) .. " bytes",
  "",
}
local report = table.concat(header, "\n") .. "\n" .. table.concat(rows, "\n") .. "\n"
io.write(report)
if append_to then
  local f = assert(io.open(append_to, "a"))
  f:write(report)
  f:close()
end
