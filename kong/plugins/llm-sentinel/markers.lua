-- The suite's JS plugins and the kong.ctx.shared key each one writes last in its access phase (its
-- marker): one list for the handler, the schema and the Admin API endpoint.
local MARKERS = {
  ["llm-prompt-guard"] = "llm.guard",
  ["llm-pii-redaction"] = "llm.pii",
  ["llm-token-accounting"] = "llm.accounting",
  ["llm-semantic-cache"] = "llm.cache",
  ["llm-model-router"] = "llm.route",
}

local PLUGINS = {}
for name in pairs(MARKERS) do
  PLUGINS[#PLUGINS + 1] = name
end
table.sort(PLUGINS)

return { MARKERS = MARKERS, PLUGINS = PLUGINS }
