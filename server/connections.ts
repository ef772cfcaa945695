import type http from "node:http";
import type { Socket } from "node:net";
import type express from "express";
import { CONNECTION_HEADER } from "../app/lib/connections.server";

// Slow clients (decision 019). Node ends a request whose headers take longer than
// headersTimeout with a 408 itself; what it has no rule for is a body that stops coming
// (uploads are allowed to take hours, so there is no total limit) and a crowd of idle
// connections from one address. Both are handled here.

interface Connection {
  id: string;
  address: string;
  /** Until a request on it was authenticated (a session, an API token, a worker token). */
  anonymous: boolean;
  /** Refused for too many anonymous connections from its address: its requests are dropped. */
  refused: boolean;
}

export interface SlowClientRules {
  bodyIdleMs: number;
  /** Anonymous connections one address may hold; 0 for no cap. */
  maxAnonymousPerAddress: number;
}

export interface ConnectionGuard {
  /** Counts the server's connections and refuses an address's one too many. */
  watch(server: http.Server): void;
  /** Express middleware: tags the request with its connection, and times out a stalled body. */
  middleware: express.RequestHandler;
  /** Called by the app once a request proved who it is: its connection no longer counts. */
  authenticated(connectionId: string): void;
  /** Anonymous connections now open from `address` (for tests). */
  anonymousFrom(address: string): number;
}

const errorBody = (code: string, message: string) => JSON.stringify({ error: { code, message } });

export function connectionGuard(rules: SlowClientRules): ConnectionGuard {
  const bySocket = new WeakMap<Socket, Connection>();
  const byId = new Map<string, Connection>();
  const anonymous = new Map<string, number>();
  let nextId = 1;

  const count = (address: string, delta: number) => {
    const value = (anonymous.get(address) ?? 0) + delta;
    if (value > 0) anonymous.set(address, value);
    else anonymous.delete(address);
  };

  function refuse(socket: Socket) {
    const body = errorBody(
      "rate_limited",
      `Too many connections from your address (${rules.maxAnonymousPerAddress}) that have not signed in; close some and try again.`,
    );
    socket.end(
      "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json; charset=utf-8\r\nRetry-After: 10\r\n" +
        `Connection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  return {
    watch(server) {
      server.on("connection", (socket: Socket) => {
        const address = socket.remoteAddress ?? "unknown";
        const connection: Connection = { id: String(nextId++), address, anonymous: true, refused: false };
        bySocket.set(socket, connection);
        const cap = rules.maxAnonymousPerAddress;
        if (cap > 0 && (anonymous.get(address) ?? 0) >= cap) {
          connection.refused = true;
          connection.anonymous = false;
          refuse(socket);
          return;
        }
        count(address, 1);
        byId.set(connection.id, connection);
        socket.once("close", () => {
          byId.delete(connection.id);
          if (connection.anonymous) count(address, -1);
        });
      });
    },

    middleware(req, res, next) {
      const connection = bySocket.get(req.socket);
      if (connection?.refused) {
        req.socket.destroy();
        return;
      }
      // Only the connection's own id gets through to the app, never one a client sent.
      if (connection) req.headers[CONNECTION_HEADER] = connection.id;
      else delete req.headers[CONNECTION_HEADER];
      if (expectsBody(req) && !req.complete) watchBody(req, res, rules.bodyIdleMs);
      next();
    },

    authenticated(connectionId) {
      const connection = byId.get(connectionId);
      if (!connection?.anonymous) return;
      connection.anonymous = false;
      count(connection.address, -1);
    },

    anonymousFrom(address) {
      return anonymous.get(address) ?? 0;
    },
  };
}

function expectsBody(req: express.Request): boolean {
  const length = Number(req.headers["content-length"] ?? 0);
  return length > 0 || req.headers["transfer-encoding"] !== undefined;
}

/**
 * A body that sends nothing for `idleMs` gets a 408 and its connection closed. The socket's
 * idle timer counts every byte the parser takes, so a slow but moving upload is fine.
 */
function watchBody(req: express.Request, res: express.Response, idleMs: number) {
  const socket = req.socket;
  const onIdle = () => {
    if (req.complete) return stop();
    console.log(`${req.method} ${req.path}: the body stalled for ${idleMs / 1000} s; answered 408 and closed the connection.`);
    if (!res.headersSent) {
      const body = errorBody("request_timeout", `The request body stalled: nothing came for ${idleMs / 1000} s. Send it again.`);
      res.writeHead(408, { "Content-Type": "application/json; charset=utf-8", Connection: "close", "Content-Length": Buffer.byteLength(body) });
      res.end(body, () => socket.destroy());
      // A client that does not read the answer either must not keep the socket.
      setTimeout(() => socket.destroy(), 1000).unref();
    } else {
      socket.destroy();
    }
  };
  function stop() {
    req.removeListener("timeout", onIdle);
    // Once the answer is out, Node's keep-alive timer owns the socket's timeout.
    if (!res.writableFinished) socket.setTimeout(0);
  }
  // Node passes a socket's timeout to the request it is reading, and only destroys the
  // socket itself when nobody listens there.
  socket.setTimeout(idleMs);
  req.on("timeout", onIdle);
  req.once("end", stop);
}
