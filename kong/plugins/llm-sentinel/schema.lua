local typedefs = require "kong.db.schema.typedefs"

local JS_PLUGINS = require("kong.plugins.llm-sentinel.markers").PLUGINS

return {
  name = "llm-sentinel",
  fields = {
    { protocols = typedefs.protocols_http },
    { config = {
        type = "record",
        fields = {
          { required_plugins = { type = "set", elements = { type = "string", one_of = JS_PLUGINS },
              description = "JS plugins that must have run on a request where Kong ran them; unset: llm-prompt-guard and llm-pii-redaction unless their fault_tolerant is true, and llm-token-accounting when its fault_tolerant is false." } },
          { status = { type = "integer", default = 503, between = { 500, 599 }, required = true,
              description = "Status answered when a required plugin did not run (the plugin server is down, restarting or unreachable)." } },
          { error_log_interval = { type = "number", default = 10, between = { 0, 86400 },
              description = "Seconds between two error log lines of this plugin in one worker (every refusal is counted)." } },
        },
      },
    },
  },
}
