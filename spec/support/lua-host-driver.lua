-- Test host for Kong Lua plugins: runs the real handler.lua under LuaJIT with a minimal
-- kong/ngx shim, driven by spec/support/lua-host.ts over stdin/stdout.
-- Usage: luajit lua-host-driver.lua <plugins_dir> <name>[,<name>...]
--
-- Wire format (both directions), integers big-endian:
--   u32 length-of-rest | u8 op-or-status | u32 call id | u32 json length | json | raw bytes
-- Requests (op): 1 hello, 2 start, 3 header_filter, 4 body_filter, 5 log, 6 end.
-- Replies (status): 0 ok, 1 error (json = { error = msg }).
-- stdout carries only protocol frames: print() goes to stderr.

local cjson = require "cjson"
cjson.encode_sparse_array(true)

local plugins_dir = assert(arg[1], "plugins dir")
local names = {}
for n in (arg[2] or "llm-response-tap"):gmatch("[^,]+") do names[#names + 1] = n end

print = function(...)
  local t = {}
  for i = 1, select("#", ...) do t[i] = tostring((select(i, ...))) end
  io.stderr:write(table.concat(t, "\t"), "\n")
end

-- kong.plugins.<name>.<mod> → <plugins_dir>/<name>/<mod>.lua (as Kong's lua_package_path would)
table.insert(package.loaders, 2, function(modname)
  local plugin, rest = modname:match("^kong%.plugins%.([^.]+)%.(.+)$")
  if not plugin then return nil end
  local file = plugins_dir .. "/" .. plugin .. "/" .. rest:gsub("%.", "/") .. ".lua"
  local f, err = loadfile(file)
  if not f then
    if io.open(file, "rb") then error(err) end
    return "\n\tno file '" .. file .. "'"
  end
  return f
end)

package.preload["kong.db.schema.typedefs"] = function()
  local set = { type = "set", elements = { type = "string", one_of = { "grpc", "grpcs", "http", "https" } } }
  return setmetatable({
    protocols_http = { type = "set", required = true, default = { "grpc", "grpcs", "http", "https" }, elements = set.elements },
    no_consumer = { type = "foreign", reference = "consumers", eq = ngx and ngx.null or cjson.null },
  }, { __index = function(_, k) return { type = "string", typedef = k } end })
end

---------------------------------------------------------------------------------------------
-- framing

local function u32(s, i)
  local a, b, c, d = s:byte(i, i + 3)
  return ((a * 256 + b) * 256 + c) * 256 + d
end

local function be32(n)
  return string.char(math.floor(n / 16777216) % 256, math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
end

local stdin, stdout = io.stdin, io.stdout
stdout:setvbuf("full")

local function read_exact(n)
  if n == 0 then return "" end
  local s = stdin:read(n)
  if not s or #s < n then return nil end
  return s
end

local function reply(status, id, json, raw)
  raw = raw or ""
  local body = string.char(status) .. be32(id) .. be32(#json) .. json .. raw
  stdout:write(be32(#body), body)
  stdout:flush()
end

---------------------------------------------------------------------------------------------
-- plugins and schemas

local PHASES = { "init_worker", "configure", "certificate", "rewrite", "access", "response",
                 "header_filter", "body_filter", "log" }

local function describe_fields(fields)
  local out = {}
  for _, entry in ipairs(fields or {}) do
    local name, def = next(entry)
    if type(def) == "table" then
      local d = { name = name, type = def.type, required = def.required, description = def.description }
      if def.default ~= nil and type(def.default) ~= "function" and type(def.default) ~= "userdata" then
        d.default = def.default
      end
      if def.type == "record" then d.fields = describe_fields(def.fields) end
      out[#out + 1] = d
    end
  end
  return out
end

local plugins = {}
local function load_plugin(name)
  local handler = require("kong.plugins." .. name .. ".handler")
  local schema = require("kong.plugins." .. name .. ".schema")
  local config_fields = {}
  for _, entry in ipairs(schema.fields or {}) do
    if entry.config then config_fields = describe_fields(entry.config.fields) end
  end
  local phases = {}
  for _, p in ipairs(PHASES) do
    if type(handler[p]) == "function" then phases[#phases + 1] = p end
  end
  plugins[name] = { handler = handler }
  return { name = name, priority = handler.PRIORITY, version = handler.VERSION, phases = phases,
           config = config_fields }
end

---------------------------------------------------------------------------------------------
-- kong / ngx shim (only what request-path plugins use)

local reqs = {}
local cur -- request state of the call being served

local LEVELS = { "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug" }

local function fmt_args(...)
  local t = {}
  for i = 1, select("#", ...) do t[i] = tostring((select(i, ...))) end
  return table.concat(t)
end

local function lower_find(headers, name)
  local ln = name:lower():gsub("_", "-")
  for k, v in pairs(headers) do
    if k:lower() == ln then return k, v end
  end
end

ngx = {
  null = cjson.null,
  OK = 0, ERROR = -1, HTTP_OK = 200,
  arg = {},
  header = setmetatable({}, {
    __index = function(_, k) local _, v = lower_find(cur.resp_headers, k); return v end,
    __newindex = function(_, k, v)
      local key = lower_find(cur.resp_headers, k) or k
      cur.resp_headers[key] = v
    end,
  }),
  now = function() return cur and cur.now or os.time() end,
  time = function() return math.floor(cur and cur.now or os.time()) end,
  update_time = function() end,
  log = function(level, ...) cur.logs[#cur.logs + 1] = { LEVELS[level] or "notice", fmt_args(...) } end,
  req = {
    start_time = function() return cur.start_ms / 1000 end,
    get_method = function() return cur.method end,
    get_headers = function() return cur.req_headers end,
  },
  var = setmetatable({}, { __index = function(_, k)
    if k == "request_method" then return cur.method end
    if k == "uri" or k == "request_uri" then return cur.path end
  end }),
  worker = { pid = function() return 1 end, id = function() return 0 end, count = function() return 1 end },
}
for i, l in ipairs(LEVELS) do ngx[l:upper()] = i end
ngx.WARN, ngx.NOTICE, ngx.INFO, ngx.DEBUG = 5, 6, 7, 8
setmetatable(ngx, { __index = function(_, k)
  if k == "status" then return cur.status end
  if k == "ctx" then return cur.ngx_ctx end
end, __newindex = function(t, k, v)
  if k == "status" then cur.status = v else rawset(t, k, v) end
end })

local function kong_log(level)
  return function(...) cur.logs[#cur.logs + 1] = { level, fmt_args(...) } end
end

kong = {
  version = "3.9.0",
  version_num = 3009000,
  log = {},
  ctx = setmetatable({}, { __index = function(_, k)
    if k == "shared" then return cur.shared end
    if k == "plugin" then return cur.plugin_ctx end
  end }),
  request = {
    get_method = function() return cur.method end,
    get_path = function() return cur.path end,
    get_header = function(name) local _, v = lower_find(cur.req_headers, name); return v end,
    get_headers = function() return cur.req_headers end,
    get_start_time = function() return cur.start_ms end,
  },
  response = {
    get_status = function() return cur.status end,
    get_header = function(name)
      local _, v = lower_find(cur.resp_headers, name)
      if type(v) == "table" then return v[1] end
      return v
    end,
    get_headers = function() return cur.resp_headers end,
    set_header = function(name, v)
      local key = lower_find(cur.resp_headers, name) or name
      cur.resp_headers[key] = tostring(v)
    end,
    add_header = function(name, v)
      local key, old = lower_find(cur.resp_headers, name)
      key = key or name
      if old == nil then cur.resp_headers[key] = tostring(v)
      elseif type(old) == "table" then old[#old + 1] = tostring(v)
      else cur.resp_headers[key] = { old, tostring(v) } end
    end,
    clear_header = function(name)
      local key = lower_find(cur.resp_headers, name)
      if key then cur.resp_headers[key] = nil end
    end,
  },
  node = { get_id = function() return "00000000-0000-4000-8000-000000000000" end },
}
for _, l in ipairs(LEVELS) do kong.log[l] = kong_log(l) end
kong.log.inspect = function() end

-- kong.ctx.shared: a proxy so writes can be reported back to the Node side
local function new_shared(store, dirty)
  return setmetatable({}, {
    __index = store,
    __newindex = function(_, k, v) store[k] = v; dirty[k] = true end,
  })
end

---------------------------------------------------------------------------------------------
-- calls

local function apply_shared(st, snap)
  if type(snap) ~= "table" then return end
  for k, v in pairs(snap) do
    if v == cjson.null then st.store[k] = nil else st.store[k] = v end
  end
end

local function finish(st, extra)
  local writes, deleted = {}, {}
  for k in pairs(st.dirty) do
    local v = st.store[k]
    if v == nil then deleted[#deleted + 1] = k else writes[k] = v end
  end
  for k in pairs(writes) do st.dirty[k] = nil end
  for _, k in ipairs(deleted) do st.dirty[k] = nil end
  local res = { writes = writes, deleted = deleted, logs = st.logs }
  st.logs = {}
  for k, v in pairs(extra or {}) do res[k] = v end
  return res
end

local function run_phase(st, phase, ...)
  local p = plugins[st.plugin]
  local fn = p.handler[phase]
  if not fn then return end
  fn(p.handler, st.conf, ...)
end

local handlers = {}

handlers[1] = function(msg)
  local info = {}
  for _, n in ipairs(names) do info[n] = load_plugin(n) end
  return { plugins = info }
end

handlers[2] = function(msg)
  local st = {
    plugin = msg.plugin, conf = msg.conf or {}, start_ms = msg.startMs or 0,
    method = msg.method or "GET", path = msg.path or "/", req_headers = msg.headers or {},
    resp_headers = {}, status = 200, store = {}, dirty = {}, logs = {}, plugin_ctx = {}, ngx_ctx = {},
  }
  if not plugins[st.plugin] then error("unknown plugin " .. tostring(st.plugin)) end
  st.shared = new_shared(st.store, st.dirty)
  reqs[msg.rid] = st
  return {}
end

local function get_req(msg)
  local st = reqs[msg.rid]
  if not st then error("unknown request " .. tostring(msg.rid)) end
  st.now = (msg.nowMs or 0) / 1000
  apply_shared(st, msg.shared)
  cur = st
  return st
end

handlers[3] = function(msg)
  local st = get_req(msg)
  st.status = msg.status
  st.resp_headers = msg.headers or {}
  run_phase(st, "header_filter")
  return finish(st, { headers = st.resp_headers, status = st.status })
end

handlers[4] = function(msg, raw)
  local st = get_req(msg)
  ngx.arg = { raw, msg.eof == true }
  run_phase(st, "body_filter")
  local out = ngx.arg[1]
  if type(out) ~= "string" then out = out == nil and "" or tostring(out) end
  local res = finish(st)
  -- Kong's log phase still runs after eof; the request state is not needed past it
  if msg.eof then reqs[msg.rid] = nil end
  return res, out
end

handlers[5] = function(msg)
  local st = reqs[msg.rid]
  if not st then return { writes = {}, deleted = {}, logs = {} } end
  get_req(msg)
  run_phase(st, "log")
  reqs[msg.rid] = nil
  return finish(st)
end

handlers[6] = function(msg)
  reqs[msg.rid] = nil
  return {}
end

while true do
  local hdr = read_exact(4)
  if not hdr then break end
  local body = read_exact(u32(hdr, 1))
  if not body then break end
  local op, id, jlen = body:byte(1), u32(body, 2), u32(body, 6)
  local msg = jlen > 0 and cjson.decode(body:sub(10, 9 + jlen)) or {}
  local raw = body:sub(10 + jlen)
  local ok, res, out = pcall(function()
    local h = handlers[op]
    if not h then error("unknown op " .. op) end
    return h(msg, raw)
  end)
  cur = nil
  if ok then
    local eok, json = pcall(cjson.encode, res)
    if eok then
      reply(0, id, json, out)
    else
      reply(1, id, cjson.encode({ error = "cannot encode result: " .. tostring(json) }))
    end
  else
    reply(1, id, cjson.encode({ error = tostring(res) }))
  end
end
