-- llm-response-tap: observes (and, for PII restore, edits) the response body in
-- body_filter, which JS plugins cannot do, and hands a summary to the JS log phases
-- through kong.ctx.shared["llm.tap"]. Parsing/restoring lives in tap.lua.

local tap = require "kong.plugins.llm-response-tap.tap"

local RESULT_KEY = "llm.tap"
local RESTORE_KEY = "llm.pii_restore"

local Handler = {
  PRIORITY = 800,
  VERSION = "0.1.0",
}

-- one error line per worker per interval: a broken upstream must not flood the log
local last_err_at = -math.huge

local function log_err(conf, msg)
  local now = ngx.now()
  if now - last_err_at >= (conf.error_log_interval or 60) then
    last_err_at = now
    kong.log.err("llm-response-tap: ", msg)
  end
end

local function clock_ms()
  ngx.update_time()
  return ngx.now() * 1000
end

local function write_result(st, aborted)
  if st.written then return end
  st.written = true
  kong.ctx.shared[RESULT_KEY] = st.tap:result({ status = st.status, aborted = aborted })
end

function Handler:header_filter(conf)
  local ok, err = pcall(function()
    local kind = tap.detect_kind(kong.response.get_header("Content-Type"),
                                 kong.response.get_header("Content-Encoding"))
    local map = conf.restore_pii and kong.ctx.shared[RESTORE_KEY] or nil
    if conf.restore_pii and not map then
      -- placeholders were sent upstream but their originals are gone: they stay in the answer (never
      -- another request's values); counted for GET /llm-sentinel/status
      local pii = kong.ctx.shared["llm.pii"]
      if type(pii) == "table" and (tonumber(pii.restore_entries) or 0) > 0 and ngx.shared.kong then
        ngx.shared.kong:incr("llm_tap:restore_missing", 1, 0)
      end
    end
    local t = tap.new({
      kind = kind,
      max_text_bytes = conf.max_text_bytes,
      max_json_bytes = conf.max_json_bytes,
      max_frame_bytes = conf.max_frame_bytes,
      max_tool_calls = conf.max_tool_calls,
      max_tool_call_bytes = conf.max_tool_call_bytes,
      keep_text = conf.keep_text,
      restore_map = map,
      clock = clock_ms,
      start_ms = ngx.req.start_time() * 1000,
    })
    if t:restoring() then
      -- restored values differ in length from the placeholders
      kong.response.clear_header("Content-Length")
    end
    kong.ctx.plugin.tap = { tap = t, status = kong.response.get_status() }
  end)
  if not ok then log_err(conf, "header_filter: " .. tostring(err)) end
end

local function body_filter(conf, st)
  local eof = ngx.arg[2]
  -- tap:feed never raises; its errors turn it into a pass-through
  local out = st.tap:feed(ngx.arg[1], eof)
  if out ~= ngx.arg[1] then ngx.arg[1] = out end
  if st.tap.error and not st.logged then
    st.logged = true
    log_err(conf, "body_filter: " .. st.tap.error)
  end
  if eof then write_result(st, false) end
end

function Handler:body_filter(conf)
  local st = kong.ctx.plugin.tap
  if not st or st.written then return end
  local ok, err = pcall(body_filter, conf, st)
  if not ok then log_err(conf, "body_filter: " .. tostring(err)) end
end

-- eof never came (client went away, upstream cut): still publish what was seen
function Handler:log(conf)
  local st = kong.ctx.plugin.tap
  if not st or st.written then return end
  local ok, err = pcall(write_result, st, true)
  if not ok then log_err(conf, "log: " .. tostring(err)) end
end

return Handler
