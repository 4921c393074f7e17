/**
 * The daemon's log: pino, one JSON object per line on stdout, written synchronously (a line is
 * out before the next step runs, so tools that wait for one, and the lines logged while stopping,
 * are never lost in a buffer). Levels are names: {"level":"info","time":…,"msg":"running",…}.
 */
import { pino } from 'pino';

export type Logger = pino.Logger;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

/** A logger at `level` writing to `fd` (stdout unless told). */
export function createLogger(level: LogLevel = 'info', fd = 1): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.epochTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: fd, sync: true }),
  );
}
