import * as net from "node:net";

/** A TCP port free on 127.0.0.1 right now (the kernel's pick), for a server a test starts. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Waits until something accepts connections on 127.0.0.1:`port`. @throws Error after `seconds`. */
export async function waitForPort(port: number, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.end();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing answers on port ${port} after ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Reads a socket's text line by line (CRLF, as IMAP and ManageSieve write): `until(test)` gives
 * the lines received up to and including the first that passes `test`, waiting for more as needed.
 */
export function lineReader(socket: net.Socket): (test: (line: string) => boolean) => Promise<string[]> {
  let buffer = "";
  let waiting: (() => void) | undefined;
  socket.on("data", (d: Buffer) => {
    buffer += d.toString("utf8");
    waiting?.();
  });
  return async (test) => {
    for (;;) {
      const lines = buffer.split("\r\n");
      const at = lines.findIndex(test);
      if (at >= 0) {
        buffer = lines.slice(at + 1).join("\r\n");
        return lines.slice(0, at + 1);
      }
      await new Promise<void>((resolve) => {
        waiting = resolve;
      });
    }
  };
}
