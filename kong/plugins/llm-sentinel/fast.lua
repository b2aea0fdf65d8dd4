-- The fast path of a JS access phase on Kong 3.9 (issue #17): one round trip instead of three.
-- Kong's own path is HandleEvent, then one Step per PDK call (with the bridge: read, write). Here the
-- request facts travel with the event (plugin.HandleEventFacts, added to kong-pdk by
-- patches/kong-pdk+0.6.0.patch) and the plugin answers its effects as the event's last message
-- (kong.llm_plugins.effects), which are applied here. Any other PDK call the plugin makes is served
-- like Kong serves it, by walking the kong table, and stepped.
--
-- Only used where Kong's plugin object exposes what this needs (3.9's rpc:call, instance_callbacks);
-- anything else, or a plugin server without HandleEventFacts, keeps Kong's path.

local bridge = require("kong.plugins.llm-sentinel.bridge")

local kong = kong
local type = type
local pcall = pcall
local unpack = unpack
local tostring = tostring
local str_find = string.find

local FINAL = "kong.llm_plugins.effects"

local M = {}

-- per worker: the plugin server answered "method HandleEventFacts not implemented" (unpatched kong-pdk)
local unsupported = false

function M.usable(handler)
  return not unsupported
    and type(handler.rpc) == "table" and type(handler.rpc.call) == "function"
    and type(handler.instance_callbacks) == "table"
    and type(handler.instance_callbacks.get_instance_id) == "function"
    and type(handler.server_def) == "table" and handler.server_def.protocol == "MsgPack:1"
end

local function resolve(method)
  local t = kong
  local first = true
  for seg in method:gmatch("[^.]+") do
    if first then
      first = false
      if seg ~= "kong" then return nil end
    else
      if type(t) ~= "table" then return nil end
      t = t[seg]
    end
  end
  return type(t) == "function" and t or nil
end

local function call_pdk(method, args)
  local f = resolve(method)
  if not f then
    return nil, "could not find pdk method: " .. tostring(method)
  end
  local ok, ret = pcall(f, unpack(type(args) == "table" and args or {}))
  if not ok then
    return nil, tostring(ret)
  end
  return ret
end

local function finish(data)
  local args = data.Args or {}
  local effects, exit = args[1], args[2]
  local ok, err = bridge.apply_all(effects)
  if not ok then
    -- the marker is the last effect: a required plugin whose effects failed is refused by the sentinel
    kong.log.err("llm plugin effects failed: ", err)
  end
  if type(exit) == "table" then
    return kong.response.exit(exit.status, exit.body, exit.headers)
  end
end

-- Returns true when the phase ran here, false to let Kong's own handler run it.
function M.access(handler, conf)
  local cb = handler.instance_callbacks
  local rpc = handler.rpc
  local facts = bridge.read()
  for attempt = 1, 2 do
    local iid = cb.get_instance_id(handler, conf) -- raises when the instance cannot be started
    local res, err = rpc:call("plugin.HandleEventFacts", { InstanceId = iid, EventName = "access", Facts = facts })
    if not res then
      local e = tostring(err):lower()
      if str_find(e, "handleeventfacts", 1, true) and str_find(e, "not implemented", 1, true) then
        unsupported = true
        kong.log.warn("llm-sentinel: the plugin server has no HandleEventFacts (kong-pdk not patched); using Kong's path")
        return false
      end
      if attempt == 1 and str_find(e, "no plugin instance", 1, true) then
        cb.reset_instance(handler.name, conf)
      else
        kong.log.err(err)
        return true
      end
    else
      while true do
        local data = res.Data
        if data == "ret" then
          return true
        end
        if type(data) ~= "table" then
          kong.log.err("llm-sentinel: unexpected plugin server answer")
          return true
        end
        if data.Method == FINAL then
          finish(data)
          return true
        end
        local ret, perr = call_pdk(data.Method, data.Args)
        if perr then
          res, err = rpc:call("plugin.StepError", { EventId = res.EventId, Data = perr })
        else
          res, err = rpc:call("plugin.Step", { EventId = res.EventId, Data = ret })
        end
        if not res then
          kong.log.err(err)
          return true
        end
      end
    end
  end
  return true
end

return M
