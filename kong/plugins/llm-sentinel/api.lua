-- GET /llm-sentinel/status: requests refused by llm-sentinel (per plugin and reason) and PII
-- restores that could not happen (llm-response-tap), counted since start across all workers.
local PLUGINS = require("kong.plugins.llm-sentinel.markers").PLUGINS

return {
  ["/llm-sentinel/status"] = {
    GET = function()
      local dict = ngx.shared.kong
      local refused = {}
      for _, p in ipairs(PLUGINS) do
        for _, why in ipairs({ "missing", "undelivered_block" }) do
          local n = dict:get("llm_sentinel:" .. why .. ":" .. p)
          if n then refused[why .. ":" .. p] = n end
        end
      end
      return kong.response.exit(200, {
        refused = refused,
        restore_missing = dict:get("llm_tap:restore_missing") or 0,
      })
    end,
  },
}
