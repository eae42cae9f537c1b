// `xsock sim --uart-link PATH`: a symlink with a stable name to the simulator's pty, whose
// /dev/pts number changes from run to run. A new run replaces it; the run's end removes it.
import { lstatSync, readlinkSync, renameSync, symlinkSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export interface UartLink {
  readonly path: string;
  /** Removes the link, unless another run has replaced it since. */
  remove(): void;
}

export function linkUart(path: string, target: string): UartLink {
  let existing;
  try {
    existing = lstatSync(path);
  } catch {
    existing = undefined;
  }
  if (existing && !existing.isSymbolicLink()) throw new Error(`--uart-link ${path}: a file that is not a symlink is there already`);
  // A link under a temporary name, renamed over PATH: a reader never finds PATH missing or half made.
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}`);
  try {
    unlinkSync(temporary);
  } catch {
    // none left over
  }
  symlinkSync(target, temporary);
  renameSync(temporary, path);
  return {
    path,
    remove() {
      try {
        if (readlinkSync(path) === target) unlinkSync(path);
      } catch {
        // gone already
      }
    },
  };
}
