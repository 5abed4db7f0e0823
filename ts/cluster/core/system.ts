/**
 * The base of every system. A system is constructed by its node (or client) with
 * `new system(namespace, systemName)`, as in Apollo; the node it belongs to is known from the
 * construction context, so subclasses keep the two-argument constructor.
 */
import { ArgumentError, GamewireError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { EventData, EventDispatcher, EventListener } from './events.js';

/**
 * What a system needs from whatever hosts it: a node (`kind: 'node'`, see NodeHost) or a game
 * client (`kind: 'client'`). Role system classes check the kind before they use their host.
 */
export interface SystemHost {
  readonly kind: 'node' | 'client';
  readonly events: EventDispatcher;
  readonly log: Logger;
}

const hosts = new WeakMap<object, SystemHost>();
let constructing: SystemHost | null = null;

/** Constructs a system class for `host`. */
export function constructSystem<T extends System>(host: SystemHost, cls: new (namespace: string, systemName: string) => T, namespace: string, systemName: string): T {
  const prev = constructing;
  constructing = host;
  try {
    return new cls(namespace, systemName);
  } finally {
    constructing = prev;
  }
}

/** The host of a system. */
export function hostOf(system: System): SystemHost {
  const h = hosts.get(system);
  if (!h) throw new GamewireError('ERR_SYSTEM', 'this system has no node: systems are constructed by their node from the mods in its config');
  return h;
}

export abstract class System {
  readonly namespace: string;
  readonly systemName: string;

  constructor(namespace: string, systemName: string) {
    if (!constructing) {
      throw new GamewireError('ERR_SYSTEM', `system ${namespace}.${systemName} was constructed outside a node: list it in a mod (defineMod) and name the mod in the node's config`);
    }
    this.namespace = namespace;
    this.systemName = systemName;
    hosts.set(this, constructing);
  }

  /** This system's logger, tagged with the node. */
  get log(): Logger {
    return hostOf(this).log;
  }

  /**
   * Listens for event `eventName` sent by the system `systemName` of namespace `namespace`.
   * Apollo's form `(namespace, systemName, eventName, instance, method)` works too.
   */
  listenForEvent<T = EventData>(namespace: string, systemName: string, eventName: string, handler: EventListener<T>): void;
  listenForEvent<T = EventData>(namespace: string, systemName: string, eventName: string, instance: object, method: EventListener<T>): void;
  listenForEvent(namespace: string, systemName: string, eventName: string, a: object, b?: EventListener<never>): void {
    const [fn, instance] = listenerArgs(a, b);
    hostOf(this).events.listen(namespace, systemName, eventName, fn, instance, this, `${this.namespace}.${this.systemName}`);
  }

  /** Stops listening; the arguments are those given to `listenForEvent`. */
  unListenForEvent<T = EventData>(namespace: string, systemName: string, eventName: string, handler: EventListener<T>): void;
  unListenForEvent<T = EventData>(namespace: string, systemName: string, eventName: string, instance: object, method: EventListener<T>): void;
  unListenForEvent(namespace: string, systemName: string, eventName: string, a: object, b?: EventListener<never>): void {
    const [fn, instance] = listenerArgs(a, b);
    hostOf(this).events.unlisten(namespace, systemName, eventName, fn, instance);
  }

  /** Called when the node stops (Apollo's `Destroy`). The system's listeners are removed after it. */
  destroy(): void {}
}

function listenerArgs(a: object, b: EventListener<never> | undefined): [EventListener<never>, object | null] {
  if (typeof b === 'function') return [b, a];
  if (typeof a === 'function') return [a as EventListener<never>, null];
  throw new ArgumentError('listenForEvent needs a handler function (or an instance and a method)');
}
