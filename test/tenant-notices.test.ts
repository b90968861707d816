import { describe, expect, it } from "vitest";
import {
  encodedWords,
  englishDate,
  fillMessage,
  frenchDate,
  membershipMessage,
  NOTICES_DIR,
  noticeFragment,
  noticePath,
  parseNoticeFragment,
  quotaMessage,
} from "../infra/model/tenant-notices";

const tenant = { slug: "amis-du-velo", name: "Les Amis du Vélo", contact: "tresorerie@amisduvelo.org", paidUntil: "2026-12-31" };
const sender = { name: "Cœur Libre", address: "noreply@alacarte.example.org", contact: "adhesions@alacarte.example.org" };

/** Decodes the RFC 2047 "B" encoded-words of a header value, dropping the folding white space between them (RFC 2047 §6.2). */
function decodeHeader(value: string): string {
  return value
    .replace(/\r\n /g, " ")
    .replace(/(\?=) (?==\?)/g, "$1")
    .replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=/g, (_, b64: string) => Buffer.from(b64, "base64").toString("utf8"));
}

/** Headers (unfolded, by name) and body of an RFC 5322 text. */
function parse(text: string): { headers: Map<string, string>; body: string; rawHeaders: string } {
  const at = text.indexOf("\r\n\r\n");
  const rawHeaders = text.slice(0, at);
  const headers = new Map<string, string>();
  for (const field of rawHeaders.split(/\r\n(?![ \t])/)) {
    const colon = field.indexOf(":");
    headers.set(field.slice(0, colon), field.slice(colon + 2));
  }
  return { headers, body: text.slice(at + 4), rawHeaders };
}

describe("the membership notice", () => {
  const text = membershipMessage(tenant, sender);
  const { headers, body, rawHeaders } = parse(text);

  it("is RFC 5322 text: CRLF lines within 78 characters, the MIME headers of UTF-8 text in 8bit", () => {
    expect(text.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    expect(text.endsWith("\r\n")).toBe(true);
    for (const line of text.split("\r\n")) expect([...line].length).toBeLessThanOrEqual(78);
    expect(headers.get("MIME-Version")).toBe("1.0");
    expect(headers.get("Content-Type")).toBe("text/plain; charset=UTF-8");
    expect(headers.get("Content-Transfer-Encoding")).toBe("8bit");
    expect(headers.get("Date")).toBe("{{DATE}}");
    expect(headers.get("Message-ID")).toBe("<{{MESSAGE_ID}}@alacarte.example.org>");
    expect(headers.get("Auto-Submitted")).toBe("auto-generated");
    expect(headers.get("Reply-To")).toBe("adhesions@alacarte.example.org");
    expect(decodeHeader(headers.get("From")!)).toBe("Cœur Libre <noreply@alacarte.example.org>");
    expect(decodeHeader(headers.get("To")!)).toBe("Les Amis du Vélo <tresorerie@amisduvelo.org>");
    // Headers are ASCII: non-ASCII only inside encoded-words.
    expect(rawHeaders).toMatch(/^[\x20-\x7e\r\n]*$/);
  });

  it("has a Subject of RFC 2047 encoded-words, French then English, naming the tenant and the date", () => {
    const subject = headers.get("Subject")!;
    for (const word of subject.split("\r\n ")) expect(word).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
    expect(decodeHeader(subject)).toBe(
      'Adhésion de « Les Amis du Vélo » : échéance le 31 décembre 2026 / Membership of "Les Amis du Vélo": due on 31 December 2026',
    );
  });

  it("says in French, then in English, the date, that nothing is deleted, that the tenant is flagged, whom to write to", () => {
    const [fr, en] = body.split("-".repeat(72));
    const flat = (s: string) => s.replace(/\r\n|\u00a0/g, " ");
    expect(body.startsWith("(English below)\r\n")).toBe(true);
    expect(flat(fr!)).toContain("L'adhésion de « Les Amis du Vélo » à Cœur Libre est réglée jusqu'au 31 décembre 2026.");
    expect(flat(fr!)).toContain("rien n'est supprimé");
    expect(flat(fr!)).toContain("signalé");
    expect(flat(fr!)).toContain("écrivez à adhesions@alacarte.example.org");
    expect(flat(en!)).toContain('The membership of "Les Amis du Vélo" in Cœur Libre is paid until 31 December 2026.');
    expect(flat(en!)).toContain("nothing is deleted");
    expect(flat(en!)).toContain("flagged");
    expect(flat(en!)).toContain("write to adhesions@alacarte.example.org");
    expect(Buffer.from(body, "utf8").toString("utf8")).toContain("Vélo"); // UTF-8 kept as is, not encoded
  });

  it("is refused without paidUntil", () => {
    expect(() => membershipMessage({ ...tenant, paidUntil: undefined }, sender)).toThrow("has no paidUntil");
  });
});

describe("the quota notice", () => {
  const text = quotaMessage(tenant, sender);
  const { headers, body } = parse(text);

  it("leaves the volume and the percentage to the script, in the Subject (ASCII, after the encoded-words) and the body", () => {
    const filled = fillMessage(text, {
      volume: "nextcloud-data",
      percent: "93",
      date: "Tue, 01 Dec 2026 22:28:01 +0000",
      messageId: "notice.quota.amis-du-velo.1",
    });
    const after = parse(filled);
    expect(decodeHeader(after.headers.get("Subject")!)).toBe(
      'Espace presque plein pour « Les Amis du Vélo » / Storage nearly full for "Les Amis du Vélo" (nextcloud-data, 93 %)',
    );
    expect(after.headers.get("Date")).toBe("Tue, 01 Dec 2026 22:28:01 +0000");
    const flat = after.body.replace(/\r\n|\u00a0/g, " ");
    expect(flat).toContain("Le volume « nextcloud-data » de « Les Amis du Vélo » occupe 93 % de l'espace prévu par votre offre.");
    expect(flat).toContain('The volume "nextcloud-data" of "Les Amis du Vélo" uses 93 % of the space your offer provides.');
    expect(flat.indexOf("Bonjour")).toBeLessThan(flat.indexOf("Hello"));
    expect(filled).not.toContain("{{");
    expect(after.body).toContain("93\u00a0%"); // never broken across lines
  });

  it("has the same MIME headers", () => {
    expect(headers.get("Content-Type")).toBe("text/plain; charset=UTF-8");
    expect(headers.get("Content-Transfer-Encoding")).toBe("8bit");
    expect(body).toContain("{{VOLUME}}");
    expect(body).toContain("{{PERCENT}}");
  });
});

describe("encodedWords", () => {
  it("never splits a character and keeps each word within 75 characters (RFC 2047 §2, §5)", () => {
    const text = "é".repeat(50) + "😀".repeat(30);
    const words = encodedWords(text);
    expect(words.length).toBeGreaterThan(1);
    for (const w of words) {
      expect(w.length).toBeLessThanOrEqual(75);
      const decoded = Buffer.from(w.slice(10, -2), "base64").toString("utf8");
      expect(decoded).not.toContain("\ufffd");
    }
    expect(decodeHeader(words.join("\r\n "))).toBe(text);
  });
});

describe("dates", () => {
  it("are written in each language", () => {
    expect(frenchDate("2027-01-01")).toBe("1er janvier 2027");
    expect(frenchDate("2026-08-15")).toBe("15 août 2026");
    expect(englishDate("2027-01-01")).toBe("1 January 2027");
  });
});

describe("noticeFragment", () => {
  it("writes key=value lines of checked values, the messages base64 on one line each", () => {
    const text = noticeFragment(tenant, sender);
    expect(text.endsWith("\n")).toBe(true);
    for (const line of text.split("\n").filter((l) => l && !l.startsWith("#"))) expect(line).toMatch(/^[a-z_]+=[A-Za-z0-9@.+/=_%-]+$/);
    const fields = parseNoticeFragment(text);
    expect(fields).toMatchObject({
      format: "1",
      slug: "amis-du-velo",
      contact: "tresorerie@amisduvelo.org",
      from: "noreply@alacarte.example.org",
      paid_until: "2026-12-31",
    });
    expect(Buffer.from(fields.membership_message!, "base64").toString("utf8")).toBe(membershipMessage(tenant, sender));
    expect(Buffer.from(fields.quota_message!, "base64").toString("utf8")).toBe(quotaMessage(tenant, sender));
  });

  it("has no membership lines without paidUntil", () => {
    const fields = parseNoticeFragment(noticeFragment({ ...tenant, paidUntil: undefined }, sender));
    expect(Object.keys(fields).sort()).toEqual(["contact", "format", "from", "quota_message", "slug"]);
  });

  it("lives at /srv/alacarte/notices/<slug>.notice", () => {
    expect(NOTICES_DIR).toBe("/srv/alacarte/notices");
    expect(noticePath("amis-du-velo")).toBe("/srv/alacarte/notices/amis-du-velo.notice");
    expect(() => noticePath("../etc")).toThrow('slug "../etc"');
  });

  it.each([
    [{ slug: "Amis" }, 'slug "Amis"'],
    [{ slug: "amis--velo" }, 'slug "amis--velo"'],
    [{ slug: "amis\nx=1" }, "slug"],
    [{ contact: 'a"b@example.org' }, "contact"],
    [{ contact: "a b@example.org" }, "contact"],
    [{ contact: "a@example.org\nslug=x" }, "contact"],
    [{ contact: "not-an-address" }, "contact"],
    [{ paidUntil: "2026-02-30" }, 'paidUntil "2026-02-30" must be a real date written YYYY-MM-DD'],
    [{ paidUntil: "31/12/2026" }, "paidUntil"],
    [{ paidUntil: "2026-12-31\nx" }, "paidUntil"],
    [{ name: "" }, "name must not be empty"],
    [{ name: "Les Amis\r\nBcc: x@example.org" }, "name must be one line, without control characters"],
    [{ name: "A\u2028B" }, "must be one line"],
    [{ name: "\ud800x" }, "well-formed"],
    [{ name: "x".repeat(1000) }, "holds a word longer than 900 bytes"],
  ])("refuses %j", (change, message) => {
    expect(() => noticeFragment({ ...tenant, ...change }, sender)).toThrow(message);
  });

  it("refuses a bad sender", () => {
    expect(() => noticeFragment(tenant, { ...sender, address: "noreply" })).toThrow("sender address");
    expect(() => noticeFragment(tenant, { ...sender, contact: "x y@example.org" })).toThrow("sender contact");
    expect(() => noticeFragment(tenant, { ...sender, name: "a\nb" })).toThrow("sender name");
  });

  it("keeps an ASCII name with quotes as a quoted-string in To", () => {
    const { headers } = parse(quotaMessage({ ...tenant, name: 'Le "Club" \\ 1' }, sender));
    expect(headers.get("To")).toBe('"Le \\"Club\\" \\\\ 1" <tresorerie@amisduvelo.org>');
  });
});
