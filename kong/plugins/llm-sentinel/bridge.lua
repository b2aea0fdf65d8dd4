-- The one-call bridge between Kong and the suite's JS plugins (issue #17: read once, decide, write
-- once). Every PDK call of a JS plugin is a round trip to the plugin server; these functions let an
-- access phase read all request facts in one call and apply all its effects in one call, and let a
-- log phase read everything it needs from one kong.ctx.shared value.
--
-- The plugin server resolves a PDK method by walking the global `kong` table (Kong 3.4 and 3.9:
-- index_table over { kong = kong, ... }), so `kong.llm_plugins.read` is callable from kong-pdk as
-- `kong.llmPlugins.read()`. Installed by llm-sentinel's init_worker; without it the JS plugins fall
-- back to one PDK call per fact (lib/kong/facade.ts).

local msgpack = require "MessagePack"

local kong = kong
local ngx = ngx
local type = type
local pcall = pcall
local tostring = tostring

local SHARED_KEYS = {
  "llm.tap", "llm.pii_restore", "llm.pii", "llm.route", "llm.accounting", "llm.cache", "llm.guard",
}
local LOG_KEY = "llm.log"
local VERSION = 1

-- A body travels as MessagePack bin (like Kong's own get_raw_body), so bytes that are not UTF-8
-- reach the plugin intact and are refused there with BODY_INVALID_UTF8 instead of being mangled.
local function bin(s)
  return function(buffer)
    msgpack.packers["binary"](buffer, s)
  end
end

local function shared_values(shared)
  local out = {}
  for i = 1, #SHARED_KEYS do
    local k = SHARED_KEYS[i]
    out[k] = shared[k]
  end
  return out
end

-- Facts that cannot change during the access phase, gathered once per request.
local function stable_facts(ctx)
  local f = ctx.llm_bridge_facts
  if f then
    return f
  end
  local client = kong.client
  f = {
    method = kong.request.get_method(),
    path = kong.request.get_path(),
    raw_query = kong.request.get_raw_query(),
    client_ip = client.get_ip(),
    consumer = client.get_consumer(),
    credential = client.get_credential(),
    consumer_groups = client.get_consumer_groups and client.get_consumer_groups() or nil,
    route = kong.router.get_route(),
    service = kong.router.get_service(),
  }
  ctx.llm_bridge_facts = f
  return f
end

-- read(): everything an access phase reads, in one round trip. Headers and body are read each
-- time: an earlier plugin may have rewritten them (set_raw_body changes what get_raw_body returns).
local function read()
  local f = stable_facts(ngx.ctx)
  local body = kong.request.get_raw_body(0)
  return {
    v = VERSION,
    method = f.method,
    path = f.path,
    raw_query = f.raw_query,
    client_ip = f.client_ip,
    consumer = f.consumer,
    credential = f.credential,
    consumer_groups = f.consumer_groups,
    route = f.route,
    service = f.service,
    headers = kong.request.get_headers(1000),
    body = body and bin(body) or nil,
    shared = shared_values(kong.ctx.shared),
  }
end

-- Effects are { op, a, b, c } records applied in the order the plugin made them; the plugin writes
-- its kong.ctx.shared marker last, so a marker means every earlier effect was applied.
local APPLY = {
  shared = function(a, b) kong.ctx.shared[a] = b end,
  upstream_header = function(a, b) kong.service.request.set_header(a, b) end,
  clear_upstream_header = function(a) kong.service.request.clear_header(a) end,
  upstream_body = function(a) kong.service.request.set_raw_body(a) end,
  upstream_path = function(a) kong.service.request.set_path(a) end,
  upstream_scheme = function(a) kong.service.request.set_scheme(a) end,
  upstream_query = function(a) kong.service.request.set_raw_query(a) end,
  target = function(a, b) kong.service.set_target(a, b) end,
  timeouts = function(a, b, c) kong.service.set_timeouts(a, b, c) end,
  buffering = function() kong.service.request.enable_buffering() end,
  response_header = function(a, b) kong.response.set_header(a, b) end,
  response_headers = function(a) kong.response.set_headers(a) end,
  serialize_value = function(a, b) kong.log.set_serialize_value(a, b) end,
  log_err = function(a) kong.log.err(a) end,
}

local function apply(effects)
  if type(effects) ~= "table" then
    return
  end
  for i = 1, #effects do
    local e = effects[i]
    local f = type(e) == "table" and APPLY[e[1]]
    if not f then
      error("unknown effect " .. tostring(type(e) == "table" and e[1] or e), 0)
    end
    f(e[2], e[3], e[4])
  end
end

-- write(effects): apply them; answers nil on success or { error = "..." } naming what failed (the
-- plugin then applies its own failure policy instead of the event dying on a Lua error).
local function write(effects)
  local ok, err = pcall(apply, effects)
  if not ok then
    return { error = tostring(err) }
  end
  return { ok = true }
end

-- write_exit(effects, { status, body?, headers? }): apply the effects, then end the request. kong.response.exit does not
-- return in access (Kong parks the response and abandons the phase), so the plugin server treats
-- this call like kong.response.exit (patches/kong-pdk+0.6.0.patch).
local function write_exit(effects, exit)
  local ok, err = pcall(apply, effects)
  if not ok then
    kong.log.err("llm plugin effects failed before an exit: ", tostring(err))
  end
  return kong.response.exit(exit.status, exit.body, exit.headers)
end

-- Log phase: Kong runs a JS log handler later in a timer with a saved copy of the request data;
-- kong.ctx.shared is saved by reference. Before the first JS log handler of a request saves it, the
-- facts every JS log phase reads go into one shared value, so each reads them in one call.
local function prepare_log()
  local shared = kong.ctx.shared
  if shared[LOG_KEY] then
    return
  end
  local ok, ser = pcall(kong.log.serialize)
  if not ok or type(ser) ~= "table" then
    return -- the plugins read the facts call by call
  end
  local res = ser.response or {}
  local rh = res.headers or {}
  local req = ser.request or {}
  local lat = ser.latencies or {}
  shared[LOG_KEY] = {
    v = VERSION,
    -- packed when the JS log phase reads it (in Kong's timer, after every Lua log handler): the tap
    -- publishes llm.tap in its own log phase when the response never reached eof (client gone)
    shared = function(buffer)
      msgpack.packers["table"](buffer, shared_values(shared))
    end,
    log = {
      source = ser.source or kong.response.get_source(),
      request = { id = req.id },
      response = { status = res.status, size = res.size, headers = { ["retry-after"] = rh["retry-after"] } },
      latencies = { request = lat.request, proxy = lat.proxy, kong = lat.kong, receive = lat.receive },
      route = ser.route and { id = ser.route.id, name = ser.route.name } or nil,
      started_at = ser.started_at,
    },
  }
end

local function write_exit_or_write(effects, exit)
  if type(exit) == "table" then
    return write_exit(effects, exit)
  end
  return write(effects)
end

local function install()
  -- effects: only ever the last message of a HandleEventFacts event, consumed by fast.lua; called
  -- through Kong's own loop it would mean a plugin server and a sentinel out of step, so it applies
  kong.llm_plugins = { read = read, write = write, write_exit = write_exit, effects = write_exit_or_write }
end

-- apply_all(effects): true, or false and what failed (fast.lua applies an event's final effects)
local function apply_all(effects)
  local ok, err = pcall(apply, effects)
  if not ok then
    return false, tostring(err)
  end
  return true
end

return { install = install, prepare_log = prepare_log, read = read, apply_all = apply_all, LOG_KEY = LOG_KEY }
