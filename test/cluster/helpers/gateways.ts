/**
 * The gateways every player-flow test runs over: the encrypted UDP one (what ships), an in-memory
 * loopback one, and the loopback one in chaos mode (it reorders and repeats messages).
 */
import { createUdpGateway, type Gateway } from '../../../ts/cluster/index.js';
import { createLoopbackGateway } from './loopback-gateway.js';
import { PrivateKey } from '../../../ts/index.js';

const udpKey = PrivateKey.generate();

export const GATEWAYS: Record<string, () => Gateway> = {
  loopback: () => createLoopbackGateway(),
  'loopback-chaos': () => createLoopbackGateway({ chaos: true }),
  udp: () => createUdpGateway({ rootKey: udpKey }),
};

export const GATEWAY_NAMES = Object.keys(GATEWAYS);
