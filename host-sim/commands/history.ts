// `xsock console`'s line history, kept in the user's config directory.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export const HISTORY_SIZE = 1000;

/** $XDG_CONFIG_HOME/xsock/console_history, or ~/.config/xsock/console_history. */
export function historyFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "xsock", "console_history");
}

/** The lines, newest first, as readline takes them. */
export function loadHistory(file: string): string[] {
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean).reverse().slice(0, HISTORY_SIZE);
  } catch {
    return [];
  }
}

/** Saves readline's history (newest first) oldest first, as shells keep theirs; a failure costs only the history. */
export function saveHistory(file: string, lines: string[]): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, [...lines.slice(0, HISTORY_SIZE)].reverse().join("\n") + "\n");
  } catch {
    // a read-only home: no history
  }
}
