/**
 * The 2019 member-space application's export (docs/migration.md "The export"): a folder of UTF-8
 * CSV files with a header row, read as RFC 4180 says (fields in double quotes may hold commas,
 * line breaks and `""` for a quote; CRLF or LF line ends). Every record keeps the line it starts
 * on, so that the import's report can name the line of each row. Pure: the command reads the files.
 */

/** The files of an export and their columns, in the application's order. */
export const LEGACY_FILES = {
  "members.csv": [
    "id",
    "username",
    "email",
    "display_name",
    "kind",
    "organisation",
    "password_hash",
    "created_at",
    "paid_until",
    "services",
  ],
  "domains.csv": ["domain", "member_id"],
  "mailboxes.csv": ["address", "member_id", "quota_mb", "password_hash"],
  "redirections.csv": ["source", "destinations", "member_id"],
} as const;

export type LegacyFile = keyof typeof LEGACY_FILES;
export type LegacyColumns<F extends LegacyFile> = (typeof LEGACY_FILES)[F][number];

/** One record of a CSV file: its fields by column name, and the line it starts on (the header is line 1). */
export interface LegacyRow<F extends LegacyFile = LegacyFile> {
  file: F;
  line: number;
  fields: Record<LegacyColumns<F>, string>;
}

/** A problem of the file itself: a record that cannot be read into the file's columns. */
export interface CsvProblem {
  file: LegacyFile;
  line: number;
  message: string;
}

export interface LegacyExport {
  members: LegacyRow<"members.csv">[];
  domains: LegacyRow<"domains.csv">[];
  mailboxes: LegacyRow<"mailboxes.csv">[];
  redirections: LegacyRow<"redirections.csv">[];
  /** Records that could not be read (wrong number of fields, an unclosed quote): rejected rows. */
  problems: CsvProblem[];
}

export interface CsvRecord {
  line: number;
  fields: string[];
}

/**
 * RFC 4180 §2: records separated by CRLF (LF accepted), fields by commas, a field in double quotes
 * may hold commas, line breaks and `""`. A quote inside an unquoted field is kept as text, as most
 * writers expect. Returns each record with the line it starts on, and the line of an unclosed quote.
 */
export function parseCsv(text: string): { records: CsvRecord[]; unclosedQuoteLine?: number } {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte-order mark is no part of the first column's name
  let line = 1;
  let fields: string[] = [];
  let field = "";
  let start = 1;
  // Anything read on this record (a blank line is none); at the start of a field (where a quote opens one).
  let fieldStarted = false;
  let atFieldStart = true;
  const n = text.length;
  const endRecord = () => {
    fields.push(field);
    // A blank line (the last line end, most often) is no record.
    if (!(fields.length === 1 && fields[0] === "" && !fieldStarted)) records.push({ line: start, fields });
    fields = [];
    field = "";
    fieldStarted = false;
    atFieldStart = true;
  };
  while (i < n) {
    const c = text[i]!;
    if (c === '"' && atFieldStart) {
      fieldStarted = true;
      atFieldStart = false;
      const opened = line;
      i++;
      for (;;) {
        if (i >= n) return { records, unclosedQuoteLine: opened };
        const q = text[i]!;
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (q === "\n") line++;
        field += q;
        i++;
      }
      continue;
    }
    if (c === ",") {
      fields.push(field);
      field = "";
      fieldStarted = true;
      atFieldStart = true;
      i++;
      continue;
    }
    if (c === "\r" && text[i + 1] === "\n") {
      i++;
      continue;
    }
    if (c === "\n") {
      endRecord();
      line++;
      start = line;
      i++;
      continue;
    }
    field += c;
    fieldStarted = true;
    atFieldStart = false;
    i++;
  }
  if (field !== "" || fields.length > 0 || fieldStarted) endRecord();
  return { records };
}

/** Reads one file of the export into rows of its columns; a record of another width is a problem, never guessed. */
export function readLegacyFile<F extends LegacyFile>(file: F, text: string): { rows: LegacyRow<F>[]; problems: CsvProblem[] } {
  const columns = LEGACY_FILES[file] as readonly string[];
  const { records, unclosedQuoteLine } = parseCsv(text);
  const problems: CsvProblem[] = [];
  const rows: LegacyRow<F>[] = [];
  const header = records[0];
  if (!header) return { rows, problems: [{ file, line: 1, message: "is empty: a header row is needed" }] };
  const names = header.fields.map((h) => h.trim());
  const missing = columns.filter((c) => !names.includes(c));
  if (missing.length > 0) {
    return { rows, problems: [{ file, line: 1, message: `the header lacks ${missing.join(", ")} (it has ${names.join(", ")})` }] };
  }
  const index = columns.map((c) => names.indexOf(c));
  for (const record of records.slice(1)) {
    if (record.fields.length !== names.length) {
      problems.push({
        file,
        line: record.line,
        message: `has ${record.fields.length} fields where the header has ${names.length}: the row is not read`,
      });
      continue;
    }
    const fields = Object.fromEntries(columns.map((c, k) => [c, record.fields[index[k]!]!])) as Record<LegacyColumns<F>, string>;
    rows.push({ file, line: record.line, fields });
  }
  if (unclosedQuoteLine !== undefined) {
    problems.push({
      file,
      line: unclosedQuoteLine,
      message: "a quote opened on this line is never closed: the rest of the file is not read",
    });
  }
  return { rows, problems };
}

/** Reads every file of the export from its text (a missing file reads as an empty one, reported). */
export function readLegacyExport(texts: Partial<Record<LegacyFile, string>>): LegacyExport {
  const problems: CsvProblem[] = [];
  const read = <F extends LegacyFile>(file: F): LegacyRow<F>[] => {
    const text = texts[file];
    if (text === undefined) {
      problems.push({ file, line: 1, message: "is missing from the export" });
      return [];
    }
    const result = readLegacyFile(file, text);
    problems.push(...result.problems);
    return result.rows;
  };
  return {
    members: read("members.csv"),
    domains: read("domains.csv"),
    mailboxes: read("mailboxes.csv"),
    redirections: read("redirections.csv"),
    problems,
  };
}
