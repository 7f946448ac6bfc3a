/**
 * Files that hold personal data or secrets are readable by this user only (docs/privacy.md): the
 * data folder `0700`; the SQLite database with its `-wal` and `-shm` files, the API token and the
 * subscription secrets `0600`. SQLite creates its `-wal` and `-shm` files with the database
 * file's mode, so the database is made `0600` before SQLite first opens it.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Makes `dir` (and missing parents, `0700` too) and sets it to `0700` when this user owns it. */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  setMode(dir, PRIVATE_DIR_MODE);
}

/** The files Switchboard keeps in its data folder: the API token, generated webhook secrets, the SQLite database. */
const OWN_FILES = /^(api-token|subscription-.+\.secret|switchboard\.db(-wal|-shm|-journal)?)$/;

/**
 * At the start: the data folder `0700` and the files Switchboard keeps in it `0600` — older
 * versions made them `0755` and `0644`.
 */
export function tightenDataDir(dir: string): void {
  if (!existsSync(dir)) return;
  setMode(dir, PRIVATE_DIR_MODE);
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isFile() && OWN_FILES.test(entry.name)) setMode(join(dir, entry.name), PRIVATE_FILE_MODE);
}

/** Creates `path` empty when missing, and sets it to `0600`; so does it for the SQLite companions `path-wal`, `path-shm` that exist. */
export function privateDatabaseFile(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  for (const p of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(p)) setMode(p, PRIVATE_FILE_MODE);
}

/** chmod, but a file of another user (EPERM) keeps its mode: its owner chose it. */
function setMode(path: string, mode: number): void {
  try {
    chmodSync(path, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
  }
}
