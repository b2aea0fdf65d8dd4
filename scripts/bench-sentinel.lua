-- Cost of llm-sentinel's access step (kong/plugins/llm-sentinel/handler.lua) per request, with the
-- JS plugins of the full chain recorded as run and their markers present (the allow path), under LuaJIT.
-- The gateway benchmark cannot resolve a cost this small (its run-to-run noise is milliseconds).
-- Run from the repo root:  luajit scripts/bench-sentinel.lua
package.path = "./?.lua;" .. package.path
local shared = {
  ["llm.guard"] = { action = "allow", score = 0, rules = {} },
  ["llm.pii"] = { counts = {}, action = "none" },
  ["llm.accounting"] = { reserved = 10 },
  ["llm.cache"] = { status = "Miss" },
  ["llm.route"] = { target = "t" },
}
local ctx = {}
_G.ngx = {
  ctx = ctx,
  now = os.clock,
  shared = { kong = { incr = function() end } },
}
_G.kong = {
  ctx = { shared = shared },
  log = { err = function() end },
  response = { exit = function() error("refused on the allow path") end },
  db = { plugins = { handlers = {} } },
}
local Sentinel = require "kong.plugins.llm-sentinel.handler"
local conf = { status = 503, error_log_interval = 10 }
local ran = {
  ["llm-prompt-guard"] = {},
  ["llm-pii-redaction"] = {},
  ["llm-token-accounting"] = { fault_tolerant = false },
  ["llm-semantic-cache"] = {},
  ["llm-model-router"] = {},
}
local N = 2000000
for _ = 1, 100000 do ctx.llm_sentinel_ran = ran; Sentinel:access(conf) end
local t0 = os.clock()
for _ = 1, N do ctx.llm_sentinel_ran = ran; Sentinel:access(conf) end
local per = (os.clock() - t0) / N
print(string.format("llm-sentinel access, full chain ran, allow path: %.3f µs per request (%d calls, LuaJIT %s)",
  per * 1e6, N, jit and jit.version or "?"))
