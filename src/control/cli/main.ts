/** Entry point of the `ferry` command (bin/ferry.js imports this module). */
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv.slice(2));
