/**
 * Hostile and edge-case YAML built around a valid tenant file, shared by the loader's suites:
 * loader-fuzz checks the message each gets, loader-fast-path that the fast path leaves each to the
 * positioned parser and that both agree.
 */

/** The "billion laughs": `levels` anchors, each aliasing the previous one nine times. */
export function aliasBomb(levels: number): string {
  const lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (let i = 1; i < levels; i++) {
    const prev = String.fromCharCode(96 + i);
    lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${prev}`).join(", ")}]`);
  }
  return `${lines.join("\n")}\n`;
}

/** Inputs both suites try, each from a valid tenant file's text. */
export function hostileYaml(valid: string) {
  return {
    aliasBomb: () => aliasBomb(9),
    aliasBombInsideValid: () => `${valid}\nx: ${aliasBomb(9).replaceAll("\n", "\n  ").replace(/^/, "\n  ")}`,
    nestedFlowLists: () => "[".repeat(10_000) + "]".repeat(10_000),
    nestedBlockSequencesOnOneLine: () => `${"- ".repeat(10_000)}x\n`,
    nestedBlockMappings: (depth: number) => `${Array.from({ length: depth }, (_, i) => `${" ".repeat(i)}a:`).join("\n")} 1\n`,
    deepUnderField: () => valid.replace("apps: [forms", `apps: ${"[".repeat(5_000)}[forms`),
    hugeFile: () => valid + `# ${"x".repeat(78)}\n`.repeat(13_200),
    duplicateKeys: () => valid.replace("type: collective", "type: collective\ntype: individual"),
    customTag: () => valid.replace("name: Les Amis du Vélo", "name: !foo bar"),
    twoDocuments: () => `---\n${valid}---\n${valid}`,
  };
}
