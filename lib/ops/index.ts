/**
 * Operations layer of the plugin-server process: the registry plugins register into (`withOps`,
 * `registerOpsRoute`), the authenticated operations API (`LLM_OPS_ADDR`, `LLM_OPS_TOKEN`) and the alert
 * webhook loop (`LLM_ALERT_WEBHOOK_URL`). Both start lazily when Kong creates the first plugin
 * instance — never at module load, which only registers hooks and prints nothing.
 */
import { onInstance } from './registry';
import { ensureOpsEndpoint } from './server';
import { ensureAlerts } from './alerts';

export {
  withOps,
  registerOpsRoute,
  configsOf,
  type OpsRoute,
  type OpsRequest,
  type OpsResponse,
  type PluginConfig,
} from './registry';

onInstance(() => {
  ensureOpsEndpoint();
  ensureAlerts();
});
