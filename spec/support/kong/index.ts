/**
 * Test gateway entry point: a Kong 3.9 emulator around the real kong-js-pluginserver.
 * Test double only — see README.md in this directory.
 */
import { Gateway, type LuaPluginRunner } from './gateway';
import type { KongVersion } from './plugin-server';

export type { LuaPluginRunner, LuaPluginInfo, LuaRequest, SharedCtx } from './gateway';
export { Gateway } from './gateway';
export { REPO_ROOT } from './plugin-server';

export interface StartGatewayOptions {
  pluginServerConf: string;
  pluginsDir?: string;
  kongVersion?: KongVersion;
  luaPlugins?: string[];
  luaRunner?: LuaPluginRunner;
  config?: string | object;
  database?: 'off' | 'memory';
  env?: Record<string, string>;
  upstreamTlsVerify?: boolean;
}

export interface GatewayHandle {
  proxyUrl: string;
  adminUrl: string;
  loadConfig(cfg: string | object): Promise<void>;
  /** plugin.GetStatus over RPC (the patched server adds Events, EventsSwept, Memory) */
  pluginServerStatus(): Promise<any>;
  /** plugin-server stdout/stderr lines and the gateway's error log */
  pluginServerLog(): string[];
  /** kill the managed plugin server; like Kong, the gateway respawns it (≥1 s later) */
  killPluginServer(signal?: NodeJS.Signals): Promise<void>;
  /** resolves when all log phases started so far have finished */
  waitForLogs(): Promise<void>;
  gateway: Gateway;
  stop(): Promise<void>;
}

export async function startGateway(opts: StartGatewayOptions): Promise<GatewayHandle> {
  const gw = new Gateway(opts);
  try {
    await gw.start();
  } catch (e) {
    await gw.stop().catch(() => undefined);
    throw e;
  }
  return {
    proxyUrl: gw.proxyUrl,
    adminUrl: gw.adminUrl,
    loadConfig: async (cfg) => gw.loadConfig(cfg),
    pluginServerStatus: () => gw.pluginServerStatus(),
    pluginServerLog: () => gw.log.lines.slice(),
    killPluginServer: async (signal) => {
      await gw.pluginServers?.kill(signal ?? 'SIGKILL');
    },
    waitForLogs: () => gw.waitForLogs(),
    gateway: gw,
    stop: () => gw.stop(),
  };
}
