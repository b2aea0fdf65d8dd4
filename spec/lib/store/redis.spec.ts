import { RedisStore } from '../../../lib/store/redis';
import { storeContract } from './contract';
import { connectTestRedis, flushPrefix, redisTestConfig } from '../../helpers/redis';

storeContract('redis (real server)', async () => {
  const cfg = redisTestConfig('store');
  const client = await connectTestRedis(cfg);
  return {
    store: new RedisStore(client),
    prefix: cfg.key_prefix,
    // Redis owns time (TIME and key expiry), so the contract really waits here.
    advance: (ms) => new Promise((r) => setTimeout(r, ms)),
    cleanup: async () => {
      await flushPrefix(client, cfg.key_prefix);
      client.disconnect();
    },
  };
});
