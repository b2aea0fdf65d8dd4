local typedefs = require "kong.db.schema.typedefs"

return {
  name = "llm-response-tap",
  fields = {
    { protocols = typedefs.protocols_http },
    { config = {
        type = "record",
        fields = {
          { max_text_bytes = { type = "integer", default = 1048576, between = { 0, 67108864 },
              description = "Maximum bytes of assembled answer text kept for the log phase; longer text is cut at a UTF-8 boundary and text_truncated is set." } },
          { max_json_bytes = { type = "integer", default = 8388608, between = { 0, 268435456 },
              description = "Maximum size of a non-streamed JSON body that is buffered and parsed at eof; larger bodies pass through unparsed and unrestored." } },
          { max_frame_bytes = { type = "integer", default = 1048576, between = { 1024, 268435456 },
              description = "Maximum size of one SSE event; a larger event is streamed through unparsed and counted as a bad frame." } },
          { max_tool_calls = { type = "integer", default = 64, between = { 0, 1024 },
              description = "Maximum number of tool calls recorded per response." } },
          { max_tool_call_bytes = { type = "integer", default = 262144, between = { 0, 67108864 },
              description = "Maximum bytes of arguments recorded per tool call." } },
          { keep_text = { type = "boolean", default = true, required = true,
              description = "Put the assembled answer text (as sent by the upstream, with placeholders) into the llm.tap result." } },
          { restore_pii = { type = "boolean", default = true, required = true,
              description = "Replace PII placeholders left by llm-pii-redaction (kong.ctx.shared llm.pii_restore) with the original values in the response sent to the client." } },
          { error_log_interval = { type = "number", default = 60, between = { 0, 86400 },
              description = "Seconds between two error log lines of this plugin in one worker (errors never break the response)." } },
        },
      },
    },
  },
}
