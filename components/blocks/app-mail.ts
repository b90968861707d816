import type * as pulumi from "@pulumi/pulumi";

/**
 * How a tenant's app sends mail: through the platform's mail server, with the platform's SMTP
 * login and its sender address, so that every message leaves signed and aligned with the
 * platform's domain (docs/services/app-setup.md "Mail").
 */
export interface AppMail {
  /** Submission host. @example "mail.example.org" */
  host: string;
  /** @example 587 */
  port: number;
  /** STARTTLS on `port`; false means TLS from the first byte (465). */
  starttls: boolean;
  username: string;
  /** secret */
  password: pulumi.Input<string>;
  /** The sender address every message carries. @example "noreply@example.org" */
  from: string;
}

/** Pure: an address's local part and domain. @example mailAddressParts("noreply@example.org") → { local: "noreply", domain: "example.org" } */
export function mailAddressParts(address: string): { local: string; domain: string } {
  const at = address.lastIndexOf("@");
  if (at <= 0 || at === address.length - 1) throw new Error(`"${address}" is not a mail address`);
  return { local: address.slice(0, at), domain: address.slice(at + 1) };
}
