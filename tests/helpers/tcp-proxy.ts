import net from "node:net";

/**
 * A TCP proxy on loopback in front of `target` that can be paused: while paused it
 * reads nothing from either side and connects nothing new, as a stalled server would
 * (nothing refused, nothing closed, no bytes). For the database stall tests.
 */
export interface TcpProxy {
  port: number;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let paused = false;
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket | null; start(): void }>();

  const server = net.createServer((client) => {
    const pair = {
      client,
      upstream: null as net.Socket | null,
      start() {
        const upstream = net.connect(target);
        pair.upstream = upstream;
        client.pipe(upstream);
        upstream.pipe(client);
        const end = () => {
          client.destroy();
          upstream.destroy();
          pairs.delete(pair);
        };
        client.on("error", end).on("close", end);
        upstream.on("error", end).on("close", end);
      },
    };
    pairs.add(pair);
    client.pause();
    if (!paused) {
      client.resume();
      pair.start();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;

  return {
    port,
    pause() {
      paused = true;
      for (const { client, upstream } of pairs) {
        client.pause();
        upstream?.pause();
      }
    },
    resume() {
      paused = false;
      for (const pair of pairs) {
        if (pair.upstream) {
          pair.client.resume();
          pair.upstream.resume();
        } else {
          pair.client.resume();
          pair.start();
        }
      }
    },
    async close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
