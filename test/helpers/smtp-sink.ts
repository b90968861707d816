import * as net from "node:net";

/** One message the sink accepted: its envelope, the login it came with, and its text (headers and body). */
export interface SunkMessage {
  from: string;
  to: string[];
  /** The AUTH username, or undefined without AUTH. */
  login?: string;
  data: string;
}

export interface SmtpSink {
  port: number;
  messages: SunkMessage[];
  /** Resolves with the messages once `count` have arrived. @throws Error after `seconds`. */
  waitFor(count: number, seconds: number): Promise<SunkMessage[]>;
  close(): Promise<void>;
}

/**
 * A mail relay for tests, on 127.0.0.1 without TLS: what a smarthost does for a client, after
 * RFC 5321 (EHLO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) and RFC 4954 (AUTH PLAIN
 * and LOGIN). With `credentials`, a wrong login gets 535 and MAIL before AUTH gets 530 (RFC 4954 §6),
 * as a submission server answers.
 */
export async function startSmtpSink(credentials?: { username: string; password: string }): Promise<SmtpSink> {
  const messages: SunkMessage[] = [];
  const server = net.createServer((socket) => {
    let buffer = "";
    let login: string | undefined;
    let from: string | undefined;
    let to: string[] = [];
    let data: string[] | undefined;
    let pendingLogin: { step: "user" | "pass"; user?: string } | undefined;
    const reply = (line: string) => socket.write(`${line}\r\n`);
    const check = (user: string, pass: string) => {
      if (!credentials || (user === credentials.username && pass === credentials.password)) {
        login = user;
        reply("235 2.7.0 Authentication successful");
      } else reply("535 5.7.8 Authentication credentials invalid");
    };
    const b64 = (s: string) => Buffer.from(s, "base64").toString("utf8");
    const onLine = (line: string) => {
      if (data) {
        if (line === ".") {
          messages.push({ from: from ?? "", to, login, data: data.join("\r\n") });
          data = undefined;
          from = undefined;
          to = [];
          reply("250 2.0.0 Ok: queued");
        } else data.push(line.startsWith(".") ? line.slice(1) : line);
        return;
      }
      if (pendingLogin) {
        if (pendingLogin.step === "user") {
          pendingLogin = { step: "pass", user: b64(line) };
          reply(`334 ${Buffer.from("Password:").toString("base64")}`);
        } else {
          const user = pendingLogin.user ?? "";
          pendingLogin = undefined;
          check(user, b64(line));
        }
        return;
      }
      const [verb = "", ...rest] = line.split(" ");
      const arg = rest.join(" ");
      switch (verb.toUpperCase()) {
        case "EHLO":
        case "HELO":
          socket.write("250-sink.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n");
          return;
        case "AUTH": {
          const [mechanism = "", initial] = arg.split(" ");
          if (mechanism.toUpperCase() === "PLAIN" && initial) {
            const [, user = "", pass = ""] = b64(initial).split("\0");
            check(user, pass);
          } else if (mechanism.toUpperCase() === "LOGIN") {
            pendingLogin = { step: "user" };
            reply(`334 ${Buffer.from("Username:").toString("base64")}`);
          } else reply("504 5.5.4 Unrecognized authentication type");
          return;
        }
        case "MAIL":
          if (credentials && !login) return void reply("530 5.7.0 Authentication required");
          from = /<([^>]*)>/.exec(arg)?.[1] ?? "";
          reply("250 2.1.0 Ok");
          return;
        case "RCPT": {
          if (from === undefined) return void reply("503 5.5.1 Need MAIL first");
          to.push(/<([^>]*)>/.exec(arg)?.[1] ?? "");
          reply("250 2.1.5 Ok");
          return;
        }
        case "DATA":
          if (to.length === 0) return void reply("503 5.5.1 Need RCPT first");
          data = [];
          reply("354 End data with <CR><LF>.<CR><LF>");
          return;
        case "RSET":
          from = undefined;
          to = [];
          reply("250 2.0.0 Ok");
          return;
        case "NOOP":
          reply("250 2.0.0 Ok");
          return;
        case "QUIT":
          reply("221 2.0.0 Bye");
          socket.end();
          return;
        default:
          reply("502 5.5.2 Command not recognized");
      }
    };
    reply("220 sink.test ESMTP");
    socket.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      let at = buffer.indexOf("\n");
      while (at >= 0) {
        onLine(buffer.slice(0, at).replace(/\r$/, ""));
        buffer = buffer.slice(at + 1);
        at = buffer.indexOf("\n");
      }
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    messages,
    async waitFor(count, seconds) {
      const deadline = Date.now() + seconds * 1000;
      while (messages.length < count) {
        if (Date.now() > deadline) throw new Error(`${messages.length} of ${count} messages after ${seconds} s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return messages.slice(0, count);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
