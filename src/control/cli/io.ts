/** Where commands write, so tests can run the CLI in-process and read what it printed. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

export const processIO: CliIO = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** Set by a command's action: the process exit status (0 unless it failed). */
export interface CommandResult {
  code: number;
}
