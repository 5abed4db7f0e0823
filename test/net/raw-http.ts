/** A raw TCP client for HTTP tests that need to misbehave (slow headers, idle connections). */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

export interface RawClient {
  socket: Socket;
  /** Everything the server sent so far. */
  readonly received: string;
  /** Resolves when the connection closed, by either side. */
  closed: Promise<void>;
  write(text: string): void;
  /** Resolves once `received` matches. */
  waitFor(pattern: RegExp): Promise<string>;
  destroy(): void;
}

/** Opens a TCP connection to `port` on loopback and resolves once connected. */
export async function rawConnect(port: number, host = '127.0.0.1'): Promise<RawClient> {
  const socket = connect(port, host);
  let received = '';
  const waiters: (() => void)[] = [];
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    received += d;
    for (const w of waiters.splice(0)) w();
  });
  // A reset (the server dropped us) is a close like any other here.
  socket.on('error', () => undefined);
  const closed = once(socket, 'close').then(() => undefined);
  await Promise.race([once(socket, 'connect'), closed]);
  return {
    socket,
    get received() {
      return received;
    },
    closed,
    write: (text) => socket.write(text),
    async waitFor(pattern) {
      while (!pattern.test(received)) {
        const more = new Promise<void>((r) => waiters.push(r));
        await Promise.race([more, closed]);
        if (socket.destroyed && !pattern.test(received)) throw new Error(`closed before ${pattern}: got ${JSON.stringify(received)}`);
      }
      return received;
    },
    destroy: () => socket.destroy(),
  };
}
