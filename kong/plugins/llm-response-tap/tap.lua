-- Pure response tap: incremental SSE / JSON parsing of OpenAI chat responses and
-- restoration of PII placeholders in the bytes the client receives.
-- No ngx/kong access (only cjson, bundled with Kong) so it runs under plain LuaJIT.
--
-- Usage:
--   local t = tap.new{ kind = "sse"|"json"|"other", restore_map = {...}, ... }
--   ngx.arg[1] = t:feed(chunk, eof)       -- bytes to send for this chunk
--   local r = t:result{ status = 200, aborted = false }
--
-- Output invariants:
--   * no restore map: every chunk is returned unchanged (the tap only observes);
--   * restore map: unchanged frames are emitted byte-for-byte; bytes are held back only
--     from a '<' (or "\u003c") inside the current frame until that frame is complete,
--     or for a whole frame while a partial placeholder from the previous frame is pending;
--   * frames carrying a restored placeholder are edited in place (only the changed string
--     bytes differ), text held back moves into the next frame of the same choice (or a
--     synthesised frame when that choice has no more content).
-- Counters: frames = SSE events with a data field (incl. [DONE] and bad ones);
-- bad_frames = data that is not a JSON object (oversized frames included).

local cjson = require "cjson.safe"

local find, sub, byte, gsub, char, fmt = string.find, string.sub, string.byte, string.gsub, string.char, string.format
local concat = table.concat
local floor = math.floor
local type, pairs, ipairs, tonumber, tostring, setmetatable, next, error =
      type, pairs, ipairs, tonumber, tostring, setmetatable, next, error

local M = { PLACEHOLDER_MAX = 64 }

local PH_PATTERN = "<%u[%u%d_]*_%d+>"
local PH_PARTIAL = "^<%u[%u%d_]*$"

-- JSON string escaping (without the quotes). Leaves '/' and non-ASCII bytes alone,
-- matching what OpenAI emits, so edited frames stay close to the originals.
local ESC = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t',
              ['\b'] = '\\b', ['\f'] = '\\f' }
for i = 0, 31 do
  local c = char(i)
  if not ESC[c] then ESC[c] = fmt("\\u%04x", i) end
end
local function json_escape(s)
  return (gsub(s, '[%z\1-\31"\\]', ESC))
end
M.json_escape = json_escape

local UNESC = { ['"'] = '"', ['\\'] = '\\', ['/'] = '/', b = '\b', f = '\f', n = '\n', r = '\r', t = '\t' }

local function utf8_char(cp)
  if cp < 0x80 then return char(cp)
  elseif cp < 0x800 then return char(0xC0 + floor(cp / 64), 0x80 + cp % 64)
  elseif cp < 0x10000 then
    return char(0xE0 + floor(cp / 4096), 0x80 + floor(cp / 64) % 64, 0x80 + cp % 64)
  end
  return char(0xF0 + floor(cp / 262144), 0x80 + floor(cp / 4096) % 64, 0x80 + floor(cp / 64) % 64, 0x80 + cp % 64)
end

-- Decode the body of a JSON string s[a..b] (between the quotes) and keep a map from
-- decoded offsets back to raw offsets, so edits touch only the bytes that change.
-- seg = { dec_start, raw_start, dec_len, raw_len, literal }
local function decode_string(s, a, b)
  local parts, segs, dpos, i = {}, {}, 1, a
  while i <= b do
    local j = find(s, "\\", i, true)
    if not j or j > b then j = b + 1 end
    if j > i then
      parts[#parts + 1] = sub(s, i, j - 1)
      segs[#segs + 1] = { dpos, i, j - i, j - i, true }
      dpos = dpos + (j - i)
    end
    if j > b then break end
    local c, dec, rlen = sub(s, j + 1, j + 1), nil, 2
    if c == "u" then
      local cp = tonumber(sub(s, j + 2, j + 5), 16)
      if not cp then error("bad \\u escape") end
      rlen = 6
      if cp >= 0xD800 and cp <= 0xDBFF and sub(s, j + 6, j + 7) == "\\u" then
        local lo = tonumber(sub(s, j + 8, j + 11), 16)
        if lo and lo >= 0xDC00 and lo <= 0xDFFF then
          cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
          rlen = 12
        end
      end
      dec = utf8_char(cp)
    else
      dec = UNESC[c]
      if not dec then error("bad escape") end
    end
    parts[#parts + 1] = dec
    segs[#segs + 1] = { dpos, j, #dec, rlen, false }
    dpos = dpos + #dec
    i = j + rlen
  end
  return concat(parts), segs
end
M.decode_string = decode_string

local function raw_first(segs, d)
  for k = 1, #segs do
    local g = segs[k]
    if d >= g[1] and d < g[1] + g[3] then
      return g[5] and g[2] + (d - g[1]) or g[2]
    end
  end
end

local function raw_last(segs, d)
  for k = 1, #segs do
    local g = segs[k]
    if d >= g[1] and d < g[1] + g[3] then
      return g[5] and g[2] + (d - g[1]) or g[2] + g[4] - 1
    end
  end
end

-- Locate string values in JSON text: choices[n].<field>.content and
-- choices[n].<field>.tool_calls[m].function.arguments (field = "delta" | "message").
-- Returns { ["c"..n] = {a, b}, ["t"..n.."."..m] = {a, b} } with a..b the string body.
local function locate(s, field)
  local spans = {}
  local path = {}

  local function ws(i)
    local k = find(s, "[^ \t\r\n]", i)
    if not k then error("truncated json") end
    return k
  end

  local function str_end(i)
    local j = i + 1
    while true do
      local k = find(s, '["\\]', j)
      if not k then error("unterminated string") end
      if byte(s, k) == 34 then return k end
      j = k + 2
    end
  end

  local function on_string(depth, a, b)
    if path[1] ~= "choices" or type(path[2]) ~= "number" or path[3] ~= field then return end
    if depth == 4 and path[4] == "content" then
      spans["c" .. path[2]] = { a, b }
    elseif depth == 7 and path[4] == "tool_calls" and type(path[5]) == "number"
        and path[6] == "function" and path[7] == "arguments" then
      spans["t" .. path[2] .. "." .. path[5]] = { a, b }
    end
  end

  local function value(i, depth)
    if depth > 100 then error("json too deep") end
    i = ws(i)
    local c = byte(s, i)
    if c == 123 then -- {
      i = ws(i + 1)
      if byte(s, i) == 125 then return i + 1 end
      while true do
        if byte(s, i) ~= 34 then error("bad object key") end
        local e = str_end(i)
        path[depth + 1] = sub(s, i + 1, e - 1)
        i = ws(e + 1)
        if byte(s, i) ~= 58 then error("missing colon") end
        i = ws(value(i + 1, depth + 1))
        path[depth + 1] = nil
        c = byte(s, i)
        if c == 44 then i = ws(i + 1)
        elseif c == 125 then return i + 1
        else error("bad object") end
      end
    elseif c == 91 then -- [
      i = ws(i + 1)
      if byte(s, i) == 93 then return i + 1 end
      local n = 0
      while true do
        n = n + 1
        path[depth + 1] = n
        i = ws(value(i, depth + 1))
        path[depth + 1] = nil
        c = byte(s, i)
        if c == 44 then i = i + 1
        elseif c == 93 then return i + 1
        else error("bad array") end
      end
    elseif c == 34 then
      local e = str_end(i)
      on_string(depth, i + 1, e - 1)
      return e + 1
    end
    local e = find(s, "[,%]} \t\r\n]", i)
    return e or #s + 1
  end

  value(1, 0)
  return spans
end
M.locate = locate

-- Find placeholders in text. Returns edits {a, b, replacement} (decoded offsets),
-- the start of a trailing partial placeholder (nil when flush or none) and a count.
-- inner = the text is itself JSON (tool-call arguments): escape replacements for it.
local function placeholder_edits(map, text, inner, flush)
  local limit, tail = #text, nil
  if not flush then
    local last = find(text, "<[^<]*$")
    if last then
      local t = sub(text, last)
      if #t < M.PLACEHOLDER_MAX and (t == "<" or find(t, PH_PARTIAL)) then
        tail, limit = last, last - 1
      end
    end
  end
  local edits, s = {}, 1
  while true do
    local a, b = find(text, PH_PATTERN, s)
    if not a or b > limit then break end
    if b - a + 1 <= M.PLACEHOLDER_MAX then
      local v = map[sub(text, a, b)]
      if type(v) == "string" then
        edits[#edits + 1] = { a, b, inner and json_escape(v) or v }
      end
    end
    s = b + 1
  end
  return edits, tail
end
M.placeholder_edits = placeholder_edits

-- Apply sorted, non-overlapping edits {a, b, rep} (b = a - 1 inserts) to s.
local function apply_edits(s, edits, upto)
  local out, pos = {}, 1
  for k = 1, #edits do
    local e = edits[k]
    out[#out + 1] = sub(s, pos, e[1] - 1)
    out[#out + 1] = e[3]
    pos = e[2] + 1
  end
  out[#out + 1] = sub(s, pos, upto or #s)
  return concat(out)
end
M.apply_edits = apply_edits

-- Cut s to at most n bytes without splitting a UTF-8 sequence.
local function utf8_cut(s, n)
  if #s <= n then return s end
  local k = n + 1
  -- step back over continuation bytes so the byte at k starts a character
  while k > 1 and k > n - 3 do
    local c = byte(s, k)
    if not c or c < 0x80 or c >= 0xC0 then break end
    k = k - 1
  end
  return sub(s, 1, k - 1)
end
M.utf8_cut = utf8_cut

local function num(v)
  if type(v) == "number" then return v end
end

local function str(v)
  if type(v) == "string" then return v end
end

local function extract_usage(u)
  if type(u) ~= "table" then return nil end
  local ptd, ctd = u.prompt_tokens_details, u.completion_tokens_details
  local r = {
    prompt_tokens = num(u.prompt_tokens),
    completion_tokens = num(u.completion_tokens),
    total_tokens = num(u.total_tokens),
    cached_tokens = type(ptd) == "table" and num(ptd.cached_tokens) or nil,
    reasoning_tokens = type(ctd) == "table" and num(ctd.reasoning_tokens) or nil,
  }
  if next(r) == nil then return nil end
  return r
end

-- Content-Type / Content-Encoding → "sse" | "json" | "other".
function M.detect_kind(content_type, content_encoding)
  if type(content_type) == "table" then content_type = content_type[1] end
  if type(content_encoding) == "table" then content_encoding = content_encoding[1] end
  -- compressed bodies cannot be parsed (or edited) as they pass
  if type(content_encoding) == "string" and content_encoding ~= "" and content_encoding:lower() ~= "identity" then
    return "other"
  end
  if type(content_type) ~= "string" then return "other" end
  local ct = content_type:lower()
  if find(ct, "text/event-stream", 1, true) then return "sse" end
  if find(ct, "application/json", 1, true) or find(ct, "+json", 1, true) then return "json" end
  return "other"
end

local Tap = {}
Tap.__index = Tap

function M.new(opts)
  opts = opts or {}
  local kind = opts.kind or "other"
  local self = setmetatable({
    kind = kind,
    max_text = opts.max_text_bytes or 1048576,
    max_json = opts.max_json_bytes or 8388608,
    max_frame = opts.max_frame_bytes or 1048576,
    max_tools = opts.max_tool_calls or 64,
    max_tool_bytes = opts.max_tool_call_bytes or 262144,
    keep_text = opts.keep_text ~= false,
    clock = opts.clock,
    start_ms = opts.start_ms,
    -- observed
    bytes = 0, bytes_out = 0, frames = 0, bad_frames = 0, restored = 0, restore_errors = 0,
    text_parts = {}, text_len = 0, text_bytes = 0, text_truncated = false,
    tools = {}, tool_list = {}, done = false, eof = false,
    -- sse line/event parser
    line_parts = {}, line_len = 0, line_skip = false, line_start = 0, at_line_start = true,
    data_parts = nil, data_map = nil, data_len = 0, ev_bytes = 0, ev_over = false,
    eol = "\n", has_fields = false,
    -- current frame (restore) / body (json)
    fparts = {}, flen = 0, femitted = 0, pend = {}, hold = false, passthru = false,
    carry = {}, ncarry = 0, dirty_end = false,
    jparts = {}, jlen = 0, jover = false,
  }, Tap)
  local map = opts.restore_map
  if type(map) == "table" and next(map) ~= nil and (kind == "sse" or kind == "json") then
    self.map = map
  end
  return self
end

function Tap:restoring()
  return self.map ~= nil
end

function Tap:_first_token()
  if self.ttft_ms == nil and self.clock and self.start_ms then
    self.ttft_ms = self.clock() - self.start_ms
  end
end

function Tap:_add_text(c)
  self.text_bytes = self.text_bytes + #c
  if self.text_truncated then return end
  local room = self.max_text - self.text_len
  if #c > room then
    c = utf8_cut(c, room)
    self.text_truncated = true
  end
  if c ~= "" and self.keep_text then
    self.text_parts[#self.text_parts + 1] = c
  end
  self.text_len = self.text_len + #c
end

function Tap:_tool(idx)
  local t = self.tools[idx]
  if t == nil then
    if #self.tool_list >= self.max_tools then
      self.tools_truncated = true
      return nil
    end
    t = { args = {}, len = 0 }
    self.tools[idx] = t
    self.tool_list[#self.tool_list + 1] = t
  end
  return t
end

function Tap:_tool_args(t, a)
  if t.truncated then return end
  local room = self.max_tool_bytes - t.len
  if #a > room then
    a = utf8_cut(a, room)
    t.truncated = true
  end
  t.args[#t.args + 1] = a
  t.len = t.len + #a
end

-- Record fields of one decoded chat.completion(.chunk) object.
function Tap:_observe(obj, field)
  self.id = self.id or str(obj.id)
  self.model = self.model or str(obj.model)
  if self.created == nil and type(obj.created) == "number" then self.created = obj.created end
  local u = extract_usage(obj.usage)
  if u then self.usage = u end
  local choices = obj.choices
  if type(choices) ~= "table" then return end
  for pos, ch in ipairs(choices) do
    if type(ch) == "table" then
      local idx = num(ch.index) or (pos - 1)
      local d = ch[field]
      if idx == 0 and type(d) == "table" then
        local c = str(d.content)
        if c and c ~= "" then
          self:_first_token()
          self:_add_text(c)
        end
        local tcs = d.tool_calls
        if type(tcs) == "table" then
          for m, tc in ipairs(tcs) do
            if type(tc) == "table" then
              local t = self:_tool(num(tc.index) or (m - 1))
              if t then
                self:_first_token()
                t.id = t.id or str(tc.id)
                local f = tc["function"]
                if type(f) == "table" then
                  t.name = t.name or str(f.name)
                  local a = str(f.arguments)
                  if a then self:_tool_args(t, a) end
                end
              end
            end
          end
        end
      end
      local fr = str(ch.finish_reason)
      if fr and (idx == 0 or self.finish_reason == nil) then self.finish_reason = fr end
    end
  end
end

-------------------------------------------------------------------------------
-- restore helpers (SSE)

function Tap:_set_carry(key, v)
  local had = self.carry[key] ~= nil
  if v == nil or v == "" then
    if had then self.carry[key] = nil; self.ncarry = self.ncarry - 1 end
  else
    if not had then self.ncarry = self.ncarry + 1 end
    self.carry[key] = v
  end
end

-- A minimal chunk carrying held-back text for a choice that has no further content.
function Tap:_synth(key, text)
  local parts = { "{" }
  if self.id then parts[#parts + 1] = '"id":"' .. json_escape(self.id) .. '",' end
  parts[#parts + 1] = '"object":"chat.completion.chunk",'
  if self.created then parts[#parts + 1] = '"created":' .. fmt("%d", self.created) .. ',' end
  if self.model then parts[#parts + 1] = '"model":"' .. json_escape(self.model) .. '",' end
  local ci, ti = key:match("^t(%d+)%.(%d+)$")
  local delta
  if ci then
    delta = '{"tool_calls":[{"index":' .. ti .. ',"function":{"arguments":"' .. json_escape(text) .. '"}}]}'
  else
    ci = key:match("^c(%d+)$") or "0"
    delta = '{"content":"' .. json_escape(text) .. '"}'
  end
  parts[#parts + 1] = '"choices":[{"index":' .. ci .. ',"delta":' .. delta .. ',"logprobs":null,"finish_reason":null}]}'
  return "data: " .. concat(parts) .. self.eol .. self.eol
end

-- Synthesise frames for pending carries (all, or those of one choice not in `keep`).
function Tap:_flush_carry(out, choice, keep)
  if self.ncarry == 0 then return end
  local keys = {}
  for k in pairs(self.carry) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local c = k:match("^c(%d+)$") or k:match("^t(%d+)%.")
    if choice == nil or (tonumber(c) == choice and not (keep and keep[k])) then
      out[#out + 1] = self:_synth(k, self.carry[k])
      self:_set_carry(k, nil)
    end
  end
end

-- Restore one string value located at spans[span_key] in JSON text `data`.
-- Appends edits (data offsets) to `edits`. carry_key = nil for non-streamed bodies.
function Tap:_restore_value(data, spans, span_key, carry_key, inner, edits, stats)
  local sp = spans[span_key]
  if not sp then error("string span not found") end
  local text, segs = decode_string(data, sp[1], sp[2])
  local carry = carry_key and self.carry[carry_key] or ""
  local whole = carry .. text
  local pe, tail = placeholder_edits(self.map, whole, inner, carry_key == nil)
  if carry_key then self:_set_carry(carry_key, tail and sub(whole, tail) or nil) end
  if carry ~= "" then
    -- the frame was held from its start: rewrite the whole string
    edits[#edits + 1] = { sp[1], sp[2], json_escape(apply_edits(whole, pe, tail and tail - 1)) }
  else
    for k = 1, #pe do
      local e = pe[k]
      edits[#edits + 1] = { raw_first(segs, e[1]), raw_last(segs, e[2]), json_escape(e[3]) }
    end
    if tail then edits[#edits + 1] = { raw_first(segs, tail), sp[2], "" } end
  end
  stats.n = stats.n + #pe
end

-- Returns prefix frames (string) and edits in data offsets for one SSE chunk object.
function Tap:_restore_chunk(obj, data)
  local pre, edits, stats = {}, {}, { n = 0 }
  local choices = obj.choices
  if type(choices) ~= "table" or choices[1] == nil then
    -- e.g. the include_usage chunk: no more content follows
    self:_flush_carry(pre)
    return pre, edits, 0
  end
  local spans
  for pos, ch in ipairs(choices) do
    if type(ch) == "table" then
      local idx = num(ch.index) or (pos - 1)
      local d, keep = ch.delta, {}
      if type(d) == "table" then
        local key = "c" .. idx
        local c = str(d.content)
        if c and (self.carry[key] or find(c, "<", 1, true)) then
          spans = spans or locate(data, "delta")
          keep[key] = true
          self:_restore_value(data, spans, "c" .. pos, key, false, edits, stats)
        end
        local tcs = d.tool_calls
        if type(tcs) == "table" then
          for m, tc in ipairs(tcs) do
            local f = type(tc) == "table" and tc["function"]
            local a = type(f) == "table" and str(f.arguments)
            if a then
              local tkey = "t" .. idx .. "." .. (num(tc.index) or (m - 1))
              if self.carry[tkey] or find(a, "<", 1, true) then
                spans = spans or locate(data, "delta")
                keep[tkey] = true
                self:_restore_value(data, spans, "t" .. pos .. "." .. m, tkey, true, edits, stats)
              end
            end
          end
        end
      end
      -- held text of this choice that this frame does not continue goes out before it
      self:_flush_carry(pre, idx, keep)
    end
  end
  table.sort(edits, function(x, y) return x[1] < y[1] end)
  return pre, edits, stats.n
end

-------------------------------------------------------------------------------
-- SSE parsing

function Tap:_emit(out, s)
  if s ~= "" then out[#out + 1] = s end
end

-- Restore mode: keep the raw bytes of the current frame.
function Tap:_frame_append(seg, out)
  if self.passthru then
    out[#out + 1] = seg
    return
  end
  self.fparts[#self.fparts + 1] = seg
  self.flen = self.flen + #seg
  self.pend[#self.pend + 1] = seg
  if self.flen > self.max_frame then
    -- too big to edit: release what is held and stream the rest of the frame as is
    if self.femitted == 0 then self:_flush_carry(out) end
    out[#out + 1] = concat(self.pend)
    self.pend, self.fparts, self.passthru = {}, {}, true
  end
end

-- Restore mode, end of a chunk: emit the current frame up to the first byte that might
-- belong to a placeholder.
function Tap:_release_partial(out)
  if self.passthru or self.hold or self.pend[1] == nil then return end
  local p = concat(self.pend)
  local h = find(p, "<", 1, true)
  local h2 = find(p, "\\u003[cC]")
  if h2 and (not h or h2 < h) then h = h2 end
  if not h then
    -- a "\u003c" split by the chunk boundary: hold only its start
    local k = find(p, "\\u?0?0?3?$")
    if k and k <= #p then h = k; self.soft = true else h = #p + 1 end
  else
    self.hold = true
  end
  self:_emit(out, sub(p, 1, h - 1))
  self.femitted = self.femitted + h - 1
  self.pend = h <= #p and { sub(p, h) } or {}
end

function Tap:_end_frame(out)
  local had_data, over = self.data_parts ~= nil, self.ev_over
  local pre, edits, count
  if over then
    self.frames = self.frames + 1
    self.bad_frames = self.bad_frames + 1
  elseif had_data then
    self.frames = self.frames + 1
    local data = concat(self.data_parts, "\n")
    if data == "[DONE]" then
      self.done = true
      if self.map then pre = {}; self:_flush_carry(pre) end
    else
      local obj = cjson.decode(data)
      if type(obj) ~= "table" or obj[1] ~= nil then
        self.bad_frames = self.bad_frames + 1
      else
        self:_observe(obj, "delta")
        if self.map then pre, edits, count = self:_restore_chunk(obj, data) end
      end
      if edits and edits[1] then
        -- data offsets → frame offsets (strings never span data lines)
        local map = self.data_map
        for k = 1, #edits do
          local e = edits[k]
          local line
          for q = #map, 1, -1 do
            if map[q][1] <= e[1] then line = map[q]; break end
          end
          local shift = line[2] - line[1]
          e[1], e[2] = e[1] + shift, e[2] + shift
        end
      end
    end
  end

  if self.map then
    if self.passthru then
      if pre and pre[1] then self:_emit(out, concat(pre)) end
    else
      local raw = concat(self.fparts)
      local ok_edits = edits and edits[1] and edits[1][1] > self.femitted
      if edits and edits[1] and not ok_edits then
        -- cannot happen if holding works; never send a corrupt frame
        self.restore_errors = self.restore_errors + 1
        edits = nil
      end
      if pre and pre[1] then
        if self.femitted == 0 then
          table.insert(out, concat(pre))
        else
          self.restore_errors = self.restore_errors + 1
        end
      end
      if ok_edits then
        self.restored = self.restored + count
        self:_emit(out, sub(apply_edits(raw, edits), self.femitted + 1))
      else
        self:_emit(out, concat(self.pend))
      end
      self.dirty_end = not (sub(raw, -2) == "\n\n" or sub(raw, -4) == "\r\n\r\n")
    end
    self.fparts, self.flen, self.femitted, self.pend = {}, 0, 0, {}
    self.hold, self.soft, self.passthru = self.ncarry > 0, false, false
  end
  self.data_parts, self.data_map, self.data_len = nil, nil, 0
  self.ev_bytes, self.ev_over, self.has_fields = 0, false, false
end

function Tap:_line(line, out)
  if line == "" then
    if self.has_fields or self.data_parts or self.ev_over then
      self:_end_frame(out)
    elseif self.map and not self.passthru then
      -- stray blank line between frames: nothing to edit
      self:_emit(out, concat(self.pend))
      self.fparts, self.flen, self.femitted, self.pend = {}, 0, 0, {}
    end
    return
  end
  self.has_fields = true
  if self.ev_over or byte(line, 1) == 58 then return end -- ':' comment / keep-alive
  local colon = find(line, ":", 1, true)
  local field, vstart
  if colon then
    field = sub(line, 1, colon - 1)
    vstart = colon + 1
    if byte(line, vstart) == 32 then vstart = vstart + 1 end
  else
    field, vstart = line, #line + 1
  end
  if field ~= "data" then return end
  local value = sub(line, vstart)
  if not self.data_parts then
    self.data_parts, self.data_map, self.data_len = {}, {}, 0
  else
    self.data_len = self.data_len + 1 -- the "\n" joining data lines
  end
  local dpos = self.data_len + 1
  self.data_parts[#self.data_parts + 1] = value
  self.data_map[#self.data_map + 1] = { dpos, self.line_start + vstart - 1 }
  self.data_len = self.data_len + #value
end

function Tap:_over(out)
  -- the event exceeded max_frame_bytes: drop its data, skip to its end
  self.ev_over = true
  self.data_parts, self.data_map = nil, nil
  self.line_parts, self.line_len, self.line_skip = {}, 0, true
  if self.map and not self.passthru then
    if self.femitted == 0 then self:_flush_carry(out) end
    out[#out + 1] = concat(self.pend)
    self.pend, self.fparts, self.passthru = {}, {}, true
  end
end

function Tap:_feed_sse(chunk, out)
  local pos, n, restore = 1, #chunk, self.map ~= nil
  while pos <= n do
    if self.at_line_start then
      self.line_start = self.flen + 1
      self.at_line_start = false
    end
    local nl = find(chunk, "\n", pos, true)
    local e = nl or n
    if restore then self:_frame_append(sub(chunk, pos, e), out) end
    self.ev_bytes = self.ev_bytes + (e - pos + 1)
    if not self.ev_over and self.ev_bytes > self.max_frame then self:_over(out) end
    if nl then
      local line
      if self.line_skip then
        line = "x" -- content irrelevant, just not blank
        self.line_skip = false
      elseif self.line_len > 0 then
        self.line_parts[#self.line_parts + 1] = sub(chunk, pos, nl - 1)
        line = concat(self.line_parts)
        self.line_parts, self.line_len = {}, 0
      else
        line = sub(chunk, pos, nl - 1)
      end
      if byte(line, -1) == 13 then
        line = sub(line, 1, -2)
        self.eol = "\r\n"
      else
        self.eol = "\n"
      end
      self.at_line_start = true
      self:_line(line, out)
      pos = nl + 1
    else
      if not self.line_skip then
        self.line_parts[#self.line_parts + 1] = sub(chunk, pos)
        self.line_len = self.line_len + (n - pos + 1)
      end
      pos = n + 1
    end
  end
end

function Tap:_finish_sse(out)
  -- a last line / event without its terminator still counts
  if self.line_len > 0 or self.line_skip then
    local line = self.line_skip and "x" or concat(self.line_parts)
    if byte(line, -1) == 13 then line = sub(line, 1, -2) end
    self.line_parts, self.line_len, self.line_skip = {}, 0, false
    self:_line(line, out)
  end
  if self.has_fields or self.data_parts or self.ev_over then
    self:_end_frame(out)
  elseif self.map and not self.passthru and self.pend[1] then
    self:_emit(out, concat(self.pend))
    self.pend = {}
  end
  if self.map and self.ncarry > 0 then
    if self.dirty_end then out[#out + 1] = self.eol .. self.eol end
    self:_flush_carry(out)
  end
end

-------------------------------------------------------------------------------
-- JSON bodies

function Tap:_feed_json(chunk, out)
  if chunk ~= "" and self.ttft_ms == nil then self:_first_token() end
  if not self.jover then
    self.jparts[#self.jparts + 1] = chunk
    self.jlen = self.jlen + #chunk
    if self.jlen > self.max_json then
      self.jover, self.jparts = true, nil
    end
  end
  if not self.map then
    out[#out + 1] = chunk
    return
  end
  self.pend[#self.pend + 1] = chunk
  if self.jover then
    -- too large to parse: give up restoring, release everything held
    self.map = nil
    self.restore_skipped = true
    out[#out + 1] = concat(self.pend)
    self.pend = {}
    return
  end
  self:_release_partial(out)
end

function Tap:_finish_json(out)
  if self.jover then return end
  local body = concat(self.jparts)
  self.jparts = nil
  local obj = cjson.decode(body)
  if type(obj) == "table" then
    self.done = true
    self:_observe(obj, "message")
  end
  if not self.map then return end
  local edits, n = {}, 0
  if type(obj) == "table" and self.hold and type(obj.choices) == "table" then
    local spans = locate(body, "message")
    local stats = { n = 0 }
    for pos, ch in ipairs(obj.choices) do
      local m = type(ch) == "table" and ch.message
      if type(m) == "table" then
        if type(m.content) == "string" and find(m.content, "<", 1, true) then
          self:_restore_value(body, spans, "c" .. pos, nil, false, edits, stats)
        end
        if type(m.tool_calls) == "table" then
          for q, tc in ipairs(m.tool_calls) do
            local f = type(tc) == "table" and tc["function"]
            if type(f) == "table" and type(f.arguments) == "string" and find(f.arguments, "<", 1, true) then
              self:_restore_value(body, spans, "t" .. pos .. "." .. q, nil, true, edits, stats)
            end
          end
        end
      end
    end
    n = stats.n
    table.sort(edits, function(x, y) return x[1] < y[1] end)
  end
  if edits[1] and edits[1][1] > self.femitted then
    self.restored = self.restored + n
    self:_emit(out, sub(apply_edits(body, edits), self.femitted + 1))
  else
    if edits[1] then self.restore_errors = self.restore_errors + 1 end
    self:_emit(out, concat(self.pend))
  end
  self.pend = {}
end

-------------------------------------------------------------------------------

-- Bytes the client has not received yet, as they arrived (used after an internal error).
function Tap:_unsent(snap)
  local parts = {}
  for _, k in ipairs(snap.carry_keys) do parts[#parts + 1] = self:_synth(k, snap.carry[k]) end
  parts[#parts + 1] = concat(snap.pend, "", 1, snap.npend)
  return concat(parts)
end

-- Feed one body chunk; returns the bytes to send. Never raises: on an internal error the
-- tap turns into a pass-through for the rest of the response and sets self.error.
function Tap:feed(chunk, eof)
  chunk = chunk or ""
  if self.eof then return chunk end
  self.bytes = self.bytes + #chunk
  if self.failed then
    self.bytes_out = self.bytes_out + #chunk
    if eof then self.eof = true end
    return chunk
  end
  -- snapshot what an error would otherwise swallow (tables are replaced, not cleared)
  local snap = { pend = self.pend, npend = #self.pend, carry = {}, carry_keys = {} }
  if self.ncarry > 0 then
    for k, v in pairs(self.carry) do snap.carry[k] = v; snap.carry_keys[#snap.carry_keys + 1] = k end
    table.sort(snap.carry_keys)
  end
  local out = {}
  local ok, err = pcall(function()
    if self.kind == "sse" then
      local restore = self.map ~= nil
      self:_feed_sse(chunk, out)
      if eof then self:_finish_sse(out) elseif restore then self:_release_partial(out) end
      if not restore then out = { chunk } end
    elseif self.kind == "json" then
      self:_feed_json(chunk, out)
      if eof then self:_finish_json(out) end
    else
      out[1] = chunk
    end
  end)
  local res
  if ok then
    res = concat(out)
  else
    self.failed, self.error = true, tostring(err)
    local ok2, unsent = pcall(self._unsent, self, snap)
    res = (ok2 and unsent or "") .. chunk
    self.pend, self.fparts, self.jparts = {}, {}, nil
  end
  if eof then self.eof = true end
  self.bytes_out = self.bytes_out + #res
  return res
end

function Tap:result(extra)
  extra = extra or {}
  local tool_calls
  if self.tool_list[1] then
    tool_calls = {}
    for i, t in ipairs(self.tool_list) do
      tool_calls[i] = { id = t.id, name = t.name, arguments = concat(t.args), truncated = t.truncated or nil }
    end
  end
  return {
    kind = self.kind,
    status = extra.status,
    model = self.model,
    id = self.id,
    usage = self.usage,
    text = self.keep_text and concat(self.text_parts) or nil,
    text_bytes = self.text_bytes,
    text_truncated = self.text_truncated,
    finish_reason = self.finish_reason,
    tool_calls = tool_calls,
    tool_calls_truncated = self.tools_truncated or nil,
    frames = self.frames,
    bad_frames = self.bad_frames,
    done = self.done,
    aborted = extra.aborted == true,
    bytes = self.bytes,
    bytes_out = self.bytes_out,
    ttft_ms = self.ttft_ms,
    restored = self.restored,
    restore_errors = self.restore_errors > 0 and self.restore_errors or nil,
    restore_skipped = self.restore_skipped or nil,
    json_truncated = self.jover or nil,
    error = self.failed or nil,
  }
end

return M
