/**
 * The gateways every player-flow test runs over. When ts/cluster/gateway-udp.ts lands, add
 *   udp: () => createUdpGateway({ rootKey, rootPublicKey }),
 * here (one line) and every player test runs over the encrypted UDP protocol too.
 */
import type { Gateway } from '../../../ts/cluster/gateway.js';
import { createLoopbackGateway } from './loopback-gateway.js';
import { createUdpGateway } from '../../../ts/cluster/gateway-udp.js';
import { PrivateKey } from '../../../ts/net/index.js';

const udpKey = PrivateKey.generate();

export const GATEWAYS: Record<string, () => Gateway> = {
  loopback: () => createLoopbackGateway(),
  'loopback-chaos': () => createLoopbackGateway({ chaos: true }),
  udp: () => createUdpGateway({ rootKey: udpKey }),
};

export const GATEWAY_NAMES = Object.keys(GATEWAYS);
