import net from "node:net";

/**
 * A TCP relay in front of the test server that can drop the network: the browser talks
 * to it, and while it is "offline" every open connection is cut and new ones are closed
 * at once, as when a phone loses its signal. (Chromium's own offline emulation does not
 * reach a service worker's fetches, which is what the offline tests are about.)
 */
export interface NetworkSwitch {
  url: string;
  setOnline(online: boolean): void;
  close(): Promise<void>;
}

export async function startNetworkSwitch(target: string): Promise<NetworkSwitch> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  let online = true;
  const relay = net.createServer((client) => {
    if (!online) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  const address = relay.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    setOnline(value) {
      online = value;
      if (!online) for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        relay.close(() => resolve());
      }),
  };
}
