/**
 * The daemon's signals: SIGTERM and SIGINT stop it cleanly (exit 0), SIGHUP reloads the config.
 * Installed before anything is changed on the host, so a stop asked for during startup waits for
 * startup to finish or fail and then undoes everything, instead of killing the process half-way.
 */

export interface SignalHandlers {
  stop(signal: NodeJS.Signals): void;
  reload(): void;
}

/** Installs the handlers; returns a function that removes them. */
export function installSignals(h: SignalHandlers): () => void {
  const onStop = (s: NodeJS.Signals) => h.stop(s);
  const onHup = () => h.reload();
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onHup);
  return () => {
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
    process.off('SIGHUP', onHup);
  };
}
