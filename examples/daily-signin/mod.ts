/** The daily sign-in mod: import this module (it calls defineMod) before starting nodes that name it. */
import { defineMod } from 'gamewire/cluster';
import { DailyClientSystem } from './client.js';
import { ClientSystemName, ModName, ServerSystemName, ServiceSystemName } from './const.js';
import { DailyServerSystem } from './server.js';
import { DailyServiceSystem } from './service.js';

export const dailyMod = defineMod(ModName, {
  server: [{ namespace: ModName, systemName: ServerSystemName, system: DailyServerSystem }],
  service: [{ namespace: ModName, systemName: ServiceSystemName, system: DailyServiceSystem }],
  client: [{ namespace: ModName, systemName: ClientSystemName, system: DailyClientSystem }],
});

export { DailyClientSystem, DailyServerSystem, DailyServiceSystem };
export * from './const.js';
