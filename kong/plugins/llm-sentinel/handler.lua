-- llm-sentinel: the fail-closed step after the JS plugins. Kong fails open on every plugin-server
-- error (crash, respawn, unreachable socket, 3.4's "not ready"): the request is proxied without the
-- plugin. This plugin runs after all JS access handlers (priority below theirs) and refuses a request
-- when a required JS plugin that Kong ran for it left no marker in kong.ctx.shared.
--
-- Which plugins Kong ran is recorded by wrapping the JS plugins' access handlers once per worker
-- (init_worker), so it is exact on Kong 3.4 and 3.9 whatever scope (global, service, route, consumer)
-- configured them. Each JS plugin writes its marker (its usual kong.ctx.shared state, no extra call)
-- as the last step of its access phase, after its effects on the request.

local MARKERS = require("kong.plugins.llm-sentinel.markers").MARKERS
local bridge = require("kong.plugins.llm-sentinel.bridge")
local fast = require("kong.plugins.llm-sentinel.fast")
-- a marker written but an exit not delivered (the server died in between) is enforced here
local BLOCKING = {
  ["llm.guard"] = function(v) return type(v) == "table" and v.action == "block" end,
  ["llm.pii"] = function(v) return type(v) == "table" and v.action == "block" end,
}
local COUNTERS = "llm_sentinel"

local Sentinel = {
  PRIORITY = 790, -- below llm-model-router (840), the lowest JS access handler of the suite
  VERSION = "0.1.0",
}

local last_err_at = -math.huge

local function wrap(name, handler)
  if type(handler.access) ~= "function" or handler.__llm_sentinel then
    return
  end
  handler.__llm_sentinel = true
  local log = handler.log
  if type(log) == "function" then
    -- the log facts of the request in one shared value, before Kong saves it for the JS log timer
    handler.log = function(self, conf)
      bridge.prepare_log()
      return log(self, conf)
    end
  end
  local access = handler.access
  handler.access = function(self, conf)
    local ctx = ngx.ctx
    local ran = ctx.llm_sentinel_ran
    if not ran then
      ran = {}
      ctx.llm_sentinel_ran = ran
    end
    ran[name] = conf
    -- Kong raises (a generic 500) when it cannot even create the plugin instance (plugin server
    -- unreachable), but only logs and proxies when a call fails later: both mean "did not run".
    -- Catch the first so the sentinel answers both the same way (yields pass through pcall).
    -- Kong 3.9: the phase in one round trip (fast.lua); elsewhere Kong's own handler
    local ok, err = pcall(function()
      if fast.usable(handler) and fast.access(handler, conf) then
        return
      end
      return access(self, conf)
    end)
    if not ok then
      kong.log.err("llm-sentinel: ", name, " failed: ", tostring(err))
    end
  end
end

function Sentinel:init_worker()
  bridge.install()
  local handlers = kong.db and kong.db.plugins and kong.db.plugins.handlers or {}
  for name in pairs(MARKERS) do
    local h = handlers[name]
    -- only external plugins (a JS plugin server); a Lua plugin of that name would not need this
    if h and (h.rpc or h.server_def) then
      wrap(name, h)
    end
  end
end

local function required(name, plugin_conf, conf)
  -- an unset set may arrive as nil or as ngx.null depending on how Kong built the config
  if type(conf.required_plugins) == "table" and #conf.required_plugins > 0 then
    for _, n in ipairs(conf.required_plugins) do
      if n == name then return true end
    end
    return false
  end
  local ft = type(plugin_conf) == "table" and plugin_conf.fault_tolerant or nil
  if name == "llm-prompt-guard" or name == "llm-pii-redaction" then
    return ft ~= true
  end
  if name == "llm-token-accounting" then
    return ft == false
  end
  return false
end

local function count(key)
  local dict = ngx.shared.kong
  if dict then
    dict:incr(COUNTERS .. ":" .. key, 1, 0)
  end
end

function Sentinel:access(conf)
  local ctx = ngx.ctx
  local ran = ctx.llm_sentinel_ran
  if not ran or ctx.delayed_response then
    return -- no JS plugin ran, or one of them already answered (a block, a cache hit, a 429)
  end
  local shared = kong.ctx.shared
  local missing, blocked
  for name, plugin_conf in pairs(ran) do
    if required(name, plugin_conf, conf) then
      local marker = shared[MARKERS[name]]
      if marker == nil then
        missing = name
        break
      end
      local is_block = BLOCKING[MARKERS[name]]
      if is_block and is_block(marker) then
        blocked = name
        break
      end
    end
  end
  local culprit = missing or blocked
  if not culprit then
    return
  end
  count((missing and "missing:" or "undelivered_block:") .. culprit)
  local now = ngx.now()
  if now - last_err_at >= (conf.error_log_interval or 10) then
    last_err_at = now
    kong.log.err("llm-sentinel: ", culprit, missing and " did not run (plugin server unavailable?)"
      or " decided to block but its answer was not delivered", "; request refused with ", conf.status,
      " PLUGIN_UNAVAILABLE")
  end
  local message = "a required gateway plugin is unavailable; the request was not forwarded"
  return kong.response.exit(conf.status, {
    error = { message = message, type = "server_error", code = "PLUGIN_UNAVAILABLE", plugin = culprit },
    message = message,
  }, { ["Retry-After"] = "1" })
end

return Sentinel
