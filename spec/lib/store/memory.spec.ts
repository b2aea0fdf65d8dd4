import { MemoryStore } from '../../../lib/store/memory';
import { storeContract } from './contract';

storeContract('memory', async () => {
  let now = 1_700_000_000_000;
  return {
    store: new MemoryStore({ now: () => now }),
    prefix: 'mem',
    advance: async (ms) => {
      now += ms;
    },
    cleanup: async () => {},
  };
});
